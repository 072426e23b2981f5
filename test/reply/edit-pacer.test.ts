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
import { sleep } from '../helpers/wait.ts';

let redis: Redis;
const { logger } = capturedLogger('debug');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());

const prefix = () => `p${randomBytes(4).toString('hex')}`;

/** Two workers' pacers on one fleet, streaming `streamingA` and `streamingB` answers, each having published and read once. */
async function twoWorkers(opts: EditPacerOptions, streamingA: number, streamingB: number): Promise<[EditPacer, EditPacer]> {
  const keyPrefix = prefix();
  const a = new EditPacer(redis, keyPrefix, opts, logger);
  const b = new EditPacer(redis, keyPrefix, opts, logger);
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
    const [a] = await twoWorkers({ editsPerMinute: 240, minIntervalMs: 100, syncMs: 10_000 }, 1, 3);
    // a streams 1 of the fleet's 4 answers: a quarter of 4 edits a second is one a second.
    expect(a.take()).toBe(0);
    const wait = a.take();
    expect(wait).toBeGreaterThan(900);
    expect(wait).toBeLessThanOrEqual(1000);
    a.spend(); // a final edit: the next streaming edit waits a second longer
    expect(a.take()).toBeGreaterThan(1900);
  });

  it('has no fleet budget at 0 edits a minute', () => {
    const pacer = new EditPacer(redis, prefix(), { editsPerMinute: 0, minIntervalMs: 700 }, logger);
    for (let i = 0; i < 100; i++) pacer.track();
    expect(pacer.intervalMs()).toBe(700);
    for (let i = 0; i < 100; i++) expect(pacer.take()).toBe(0);
  });

  it('counts the answers other workers are streaming, and forgets a worker that stopped reporting', async () => {
    const [a, b] = await twoWorkers({ editsPerMinute: 120, minIntervalMs: 100, syncMs: 100 }, 1, 5);
    // 6 answers across the fleet at 120 edits a minute: one edit every 3 s each.
    expect(a.intervalMs()).toBe(3000);
    expect(b.intervalMs()).toBe(3000);
    // b dies without a word: after three of its periods, a no longer counts it.
    await sleep(350);
    await a.sync();
    expect(a.intervalMs()).toBe(500);
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
    const pacer = new EditPacer(redis, keyPrefix, { editsPerMinute: 60, minIntervalMs: 100, syncMs: 50 }, logger);
    pacer.start();
    await sleep(200);
    expect(await redis.exists(`${keyPrefix}:slack:streaming`)).toBe(0);
    const done = pacer.track();
    await sleep(120);
    expect(await redis.hvals(`${keyPrefix}:slack:streaming`)).toEqual([expect.stringMatching(/^1:/)]);
    done();
    await sleep(120);
    expect(await redis.hvals(`${keyPrefix}:slack:streaming`)).toEqual([expect.stringMatching(/^0:/)]);
    await pacer.stop();
  });

  it('syncs on its own once started', async () => {
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 60, minIntervalMs: 100, syncMs: 50 };
    const a = new EditPacer(redis, keyPrefix, opts, logger);
    const b = new EditPacer(redis, keyPrefix, opts, logger);
    a.track();
    b.track();
    a.start();
    b.start();
    await sleep(250);
    expect(a.intervalMs()).toBe(2000); // two answers in the fleet at one edit a second
    await a.stop();
    await b.stop();
  });
});
