/**
 * What each answer costs Redis in the team's bookkeeping, counted by Redis
 * itself: usage counts gather in the process and are written together (summed
 * per field), the process's own reads see them at once; and the flags every
 * answer looks at are read once per interval, while the process's own changes
 * are seen at once.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedRead } from '../../src/cached-read.ts';
import { FairShare } from '../../src/team/fair-share.ts';
import { QueueControl } from '../../src/team/queue-control.ts';
import { UsageLedger, utcDay } from '../../src/team/usage.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis(); // its own, so its command counts are this test's alone
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.cleanup();
});
beforeEach(async () => {
  await redis.config('RESETSTAT');
});

/** Commands Redis ran since the last reset, by name (our own INFO and CONFIG left out). */
async function commands(): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) if (!/^(info|config)/.test(m[1] as string)) out[m[1] as string] = Number(m[2]);
  return out;
}

describe('usage counts', () => {
  it('100 answers by two people in one channel are written as one increment per field, and read back exactly', async () => {
    const ledger = new UsageLedger(redis, 'batch', capturedLogger('silent').logger, { content: false, retentionDays: 30 });
    for (let i = 0; i < 100; i++) await ledger.record({ user: i % 2 ? 'U1' : 'U2', channel: 'C1', model: 'm', promptTokens: 10, completionTokens: 5 });
    expect(await commands()).toEqual({}); // nothing written yet
    // The process's own read writes first: the counts are all there.
    expect(await ledger.totals('u:U1', [utcDay()])).toEqual({ requests: 50, promptTokens: 500, completionTokens: 250 });
    expect(await ledger.totals('all', [utcDay()])).toEqual({ requests: 100, promptTokens: 1000, completionTokens: 500 });
    // Subjects u:U1, u:U2, c:C1, m:m, all: three fields each, one increment per field, one EXPIRE for the day.
    const ran = await commands();
    expect(ran.hincrby).toBe(15);
    expect(ran.expire).toBe(1);
  });

  it('counts are written within a second without anyone reading them', async () => {
    const ledger = new UsageLedger(redis, 'timer', capturedLogger('silent').logger, { content: false, retentionDays: 30 });
    await ledger.record({ user: 'U1', channel: 'C1', model: 'm', promptTokens: 3, completionTokens: 4 });
    const key = `timer:usage:${utcDay()}`;
    for (let i = 0; i < 100 && !(await redis.hget(key, 'all:requests')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await redis.hmget(key, 'u:U1:requests', 'u:U1:prompt', 'u:U1:completion')).toEqual(['1', '3', '4']);
  });
});

describe('fair turns given back', () => {
  it("many finished questions are given back in one script call; a person's entry goes when none are left", async () => {
    const fair = new FairShare(redis, 'turns', 0);
    for (let i = 0; i < 30; i++) await fair.enqueued(i % 3 ? 'U1' : 'U2', `job-${i}`); // U1 20, U2 10
    await redis.config('RESETSTAT');
    const done = [...Array.from({ length: 10 }, () => fair.finished('U1')), ...Array.from({ length: 10 }, () => fair.finished('U2'))];
    await Promise.all(done);
    expect((await commands()).eval).toBe(1);
    expect(await redis.hgetall('turns:fair:pending')).toEqual({ U1: '10' });
    // A person waiting on it (a cancelled question): written at once. Timers stand still meanwhile, so a write left
    // to the batch's timer would never settle (the test would time out), however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await fair.finished('U1', { now: true });
    } finally {
      vi.useRealTimers();
    }
    expect(await redis.hget('turns:fair:pending', 'U1')).toBe('9');
  });
});

describe('flags read once per interval', () => {
  it("the pause flag is read once for many answers; this process's pause and resume are seen at once", async () => {
    const control = new QueueControl(redis, 'flags');
    await Promise.all(Array.from({ length: 50 }, () => control.paused()));
    expect((await commands()).get).toBe(1);
    await control.pause('U0ADMIN');
    expect((await control.paused())?.by).toBe('U0ADMIN');
    await control.resume();
    expect(await control.paused()).toBeUndefined();
  });

  it('a read is shared until its interval is over; a failed read is not kept', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const read = cachedRead(
      1000,
      async () => {
        reads++;
        if (fail) throw new Error('Redis is down');
        return reads;
      },
      () => now,
    );
    expect(await read()).toBe(1);
    now = 999;
    expect(await read()).toBe(1);
    now = 1000;
    fail = true;
    await expect(read()).rejects.toThrow('Redis is down');
    fail = false;
    expect(await read()).toBe(3); // asked again at once, not after another interval
    read.forget();
    expect(await read()).toBe(4);
  });
});
