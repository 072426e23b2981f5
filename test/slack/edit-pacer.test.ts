/**
 * The fleet-wide budget for streaming edits, against a real Redis: workers
 * see each other's streaming answers, a dead worker drops out, and each
 * message's interval follows the fleet's load both ways.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EditPacer } from '../../src/slack/edit-pacer.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { sleep } from '../helpers/wait.ts';

let redis: Redis;
const { logger } = capturedLogger('debug');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());

const prefix = () => `p${randomBytes(4).toString('hex')}`;

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
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 240, minIntervalMs: 100, syncMs: 10_000 };
    const a = new EditPacer(redis, keyPrefix, opts, logger);
    const b = new EditPacer(redis, keyPrefix, opts, logger);
    a.track();
    for (let i = 0; i < 3; i++) b.track();
    await b.sync();
    await a.sync();
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
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 120, minIntervalMs: 100, syncMs: 100 };
    const a = new EditPacer(redis, keyPrefix, opts, logger);
    const b = new EditPacer(redis, keyPrefix, opts, logger);
    a.track();
    for (let i = 0; i < 5; i++) b.track();
    await b.sync();
    await a.sync();
    // 6 answers across the fleet at 120 edits a minute: one edit every 3 s each.
    expect(a.intervalMs()).toBe(3000);
    await b.sync();
    expect(b.intervalMs()).toBe(3000);
    // b dies without a word: after three of its periods, a no longer counts it.
    await sleep(350);
    await a.sync();
    expect(a.intervalMs()).toBe(500);
  });

  it('leaves the fleet count at once when it stops', async () => {
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 60, minIntervalMs: 100, syncMs: 10_000 };
    const a = new EditPacer(redis, keyPrefix, opts, logger);
    const b = new EditPacer(redis, keyPrefix, opts, logger);
    b.track();
    b.track();
    await b.sync();
    await a.sync();
    expect(a.intervalMs()).toBe(2000);
    await b.stop();
    await a.sync();
    expect(a.intervalMs()).toBe(100);
  });

  it('syncs on its own once started', async () => {
    const keyPrefix = prefix();
    const opts = { editsPerMinute: 60, minIntervalMs: 100, syncMs: 50 };
    const a = new EditPacer(redis, keyPrefix, opts, logger);
    const b = new EditPacer(redis, keyPrefix, opts, logger);
    b.track();
    a.start();
    b.start();
    await sleep(250);
    expect(a.intervalMs()).toBe(1000);
    await a.stop();
    await b.stop();
  });
});
