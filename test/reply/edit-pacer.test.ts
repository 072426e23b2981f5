/**
 * The fleet-wide budget for streaming edits, against a real Redis: workers
 * see each other's streaming answers, a dead worker drops out, and each
 * message's interval follows the fleet's load both ways.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EditPacer, type EditPacerOptions } from '../../src/reply/edit-pacer.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: Redis;
const { logger } = capturedLogger('debug');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());

const prefix = () => `p${randomBytes(4).toString('hex')}`;

/** Two workers' pacers on one fleet, streaming `streamingA` and `streamingB` answers, each having published and read once. */
async function twoWorkers(opts: EditPacerOptions, streamingA: number, streamingB: number, clock = new ManualClock()): Promise<[EditPacer, EditPacer]> {
  const keyPrefix = prefix();
  const a = new EditPacer(redis, keyPrefix, opts, logger, clock);
  const b = new EditPacer(redis, keyPrefix, opts, logger, clock);
  for (let i = 0; i < streamingA; i++) a.track();
  for (let i = 0; i < streamingB; i++) b.track();
  await b.sync();
  await a.sync();
  await b.sync();
  return [a, b];
}

describe('edit pacer', () => {
  it('gives a lone answer the minimum interval and shares the budget as answers add up', () => {
    const pacer = new EditPacer(redis, prefix(), { editsPerMinute: 60, minIntervalMs: 500 }, logger);
    expect(pacer.intervalMs()).toBe(500);
    const done = [pacer.track()];
    expect(pacer.intervalMs()).toBe(1000); // one answer: 60 a minute is one a second
    done.push(pacer.track(), pacer.track());
    expect(pacer.intervalMs()).toBe(3000);
    for (const d of done) d();
    done[0]?.(); // a second call changes nothing
    expect(pacer.intervalMs()).toBe(500);
  });

  it("shortens a message's first interval to its random fraction, never below the minimum", () => {
    const pacer = new EditPacer(redis, prefix(), { editsPerMinute: 60, minIntervalMs: 500 }, logger);
    for (let i = 0; i < 10; i++) pacer.track();
    expect(pacer.intervalMs()).toBe(10_000);
    expect(pacer.intervalMs(0.25)).toBe(2500);
    expect(pacer.intervalMs(0.01)).toBe(500);
  });

  it('caps the edits it takes at its share of the budget; final edits count against it', async () => {
    const clock = new ManualClock();
    const [a] = await twoWorkers({ editsPerMinute: 240, minIntervalMs: 100, syncMs: 10_000 }, 1, 3, clock);
    // a streams 1 of the fleet's 4 answers: a quarter of 4 edits a second is one a second.
    expect(a.take()).toBe(0);
    expect(a.take()).toBe(1000);
    clock.advance(400);
    expect(a.take()).toBe(600);
    clock.advance(600);
    expect(a.take()).toBe(0);
    a.spend(); // a final edit is sent anyway, and the next streaming edit waits a second longer
    expect(a.take()).toBe(2000);
    clock.advance(2000);
    expect(a.take()).toBe(0);
    // Saving up is capped at two seconds of its share: after a quiet minute, two edits at once, then the pace.
    clock.advance(60_000);
    expect([a.take(), a.take(), a.take()]).toEqual([0, 0, 1000]);
  });

  it('has no fleet budget at 0 edits a minute', () => {
    const pacer = new EditPacer(redis, prefix(), { editsPerMinute: 0, minIntervalMs: 700 }, logger);
    for (let i = 0; i < 100; i++) pacer.track();
    expect(pacer.intervalMs()).toBe(700);
    for (let i = 0; i < 100; i++) expect(pacer.take()).toBe(0);
  });

  it('counts the answers other workers are streaming, and forgets a worker that stopped reporting', async () => {
    const keyPrefix = prefix();
    // Periods of a second: the test's own Redis round trips, however slow, stay well inside them.
    const opts = { editsPerMinute: 120, minIntervalMs: 100, syncMs: 1000 };
    const a = new EditPacer(redis, keyPrefix, opts, logger, new ManualClock());
    const b = new EditPacer(redis, keyPrefix, opts, logger, new ManualClock());
    a.track();
    for (let i = 0; i < 5; i++) b.track();
    await b.sync();
    await a.sync();
    await b.sync();
    // 6 answers across the fleet at 120 edits a minute: one edit every 3 s each.
    expect(a.intervalMs()).toBe(3000);
    expect(b.intervalMs()).toBe(3000);
    // b dies without a word. Staleness is judged by Redis's clock (the fleet's), so its report is aged there:
    // just inside three of a's periods it still counts, just past them it is dropped.
    const key = `${keyPrefix}:slack:streaming`;
    const ageB = async (ms: number) => {
      const [seconds, micros] = (await redis.time()).map(Number) as [number, number];
      const entries = await redis.hgetall(key);
      const bWorker = Object.keys(entries).find((w) => entries[w]?.startsWith('5:')) as string;
      await redis.hset(key, bWorker, `5:${seconds * 1000 + Math.floor(micros / 1000) - ms}`);
    };
    await ageB(2000);
    await a.sync();
    expect(a.intervalMs()).toBe(3000);
    await ageB(3001);
    await a.sync();
    expect(a.intervalMs()).toBe(500);
    expect(Object.values(await redis.hgetall(key))).toEqual([expect.stringMatching(/^1:/)]);
  });

  it('leaves the fleet count at once when it stops', async () => {
    const [a, b] = await twoWorkers({ editsPerMinute: 60, minIntervalMs: 100, syncMs: 10_000 }, 0, 2);
    expect(a.intervalMs()).toBe(2000);
    await b.stop();
    await a.sync();
    expect(a.intervalMs()).toBe(100);
  });

  it('an idle worker does not write to Redis; one that has streamed says when it is idle again', async () => {
    const keyPrefix = prefix();
    const key = `${keyPrefix}:slack:streaming`;
    const clock = new ManualClock();
    const pacer = new EditPacer(redis, keyPrefix, { editsPerMinute: 60, minIntervalMs: 100, syncMs: 50 }, logger, clock);
    pacer.start();
    // Four periods pass. A sync would have been sent on this same connection before the read below, which
    // Redis answers in order: the read is the barrier, no waiting needed.
    clock.advance(200);
    expect(await redis.exists(key)).toBe(0);
    const done = pacer.track();
    clock.advance(49);
    expect(await redis.exists(key)).toBe(0); // not before its period
    clock.advance(1);
    expect(await redis.hvals(key)).toEqual([expect.stringMatching(/^1:/)]);
    done();
    clock.advance(50);
    expect(await redis.hvals(key)).toEqual([expect.stringMatching(/^0:/)]);
    await pacer.stop();
    expect(await redis.exists(key)).toBe(0);
    clock.advance(500); // stopped: no more syncs
    expect(await redis.exists(key)).toBe(0);
  });

  it('syncs on its own once started', async () => {
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 60, minIntervalMs: 100, syncMs: 50 };
    const clock = new ManualClock();
    const a = new EditPacer(redis, keyPrefix, opts, logger, clock);
    const b = new EditPacer(redis, keyPrefix, opts, logger, clock);
    a.track();
    b.track();
    a.start();
    b.start();
    expect(a.intervalMs()).toBe(1000); // alone as far as it knows
    // a publishes first in each period, so it sees b from the second period on.
    clock.advance(50);
    clock.advance(50);
    await waitFor(() => a.intervalMs() === 2000, "a counting b's answer"); // two answers in the fleet at one edit a second
    await a.stop();
    await b.stop();
  });

  it('shares the Tier-2 budget for native streams: a start and its stop reserved together, at each worker\'s share', async () => {
    const clock = new ManualClock();
    // 18 calls a minute for the fleet; two workers with one answer each: 9 a minute each, one stream per 13.3 s.
    const [a, b] = await twoWorkers({ editsPerMinute: 60, minIntervalMs: 1000, streamCallsPerMinute: 18 }, 1, 1, clock);
    expect(a.reserveStream()).toBe(true);
    expect(a.reserveStream()).toBe(false);
    expect(b.reserveStream()).toBe(true);
    clock.advance(13_000);
    expect(a.reserveStream()).toBe(false);
    clock.advance(400);
    expect(a.reserveStream()).toBe(true);
    const none = new EditPacer(redis, prefix(), { editsPerMinute: 60, minIntervalMs: 1000, streamCallsPerMinute: 0 }, logger, clock);
    expect(none.reserveStream()).toBe(false);
  });

  it('counts answers holding an edited message fleet-wide: past what the edit budget finishes in 15 s, no room', async () => {
    // 40 edits a minute: 10 answers may hold an edited message across the fleet.
    const [a, b] = await twoWorkers({ editsPerMinute: 40, minIntervalMs: 1000 }, 1, 1);
    const held = Array.from({ length: 9 }, () => a.holdEdited());
    expect(a.editRoom()).toBe(true);
    await a.sync();
    await b.sync();
    expect(b.editRoom()).toBe(true);
    held.push(a.holdEdited());
    await a.sync();
    await b.sync();
    expect(b.editRoom()).toBe(false);
    for (const release of held.slice(0, 2)) release();
    await a.sync();
    await b.sync();
    expect(b.editRoom()).toBe(true);
  });
});
