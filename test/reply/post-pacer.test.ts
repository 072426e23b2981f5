/**
 * The fleet's post slots per channel, against a real Redis: two workers'
 * posts in one channel are spaced, other channels are not held back.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChannelPostPacer } from '../../src/reply/post-pacer.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());

describe('channel post pacer', () => {
  it('spaces the posts of every worker in one channel, and only in that channel', async () => {
    const prefix = `p${randomBytes(4).toString('hex')}`;
    const a = new ChannelPostPacer(redis, prefix, 1000);
    const b = new ChannelPostPacer(redis, prefix, 1000);
    const started = Date.now();
    const waits = [await a.takeSlot('C1'), await b.takeSlot('C1'), await a.takeSlot('C1')];
    // Redis's clock moves on between the calls (by at most the time they took): each later slot is a spacing after the one before.
    const spent = Date.now() - started + 1;
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBeGreaterThan(1000 - spent);
    expect(waits[1]).toBeLessThanOrEqual(1000);
    expect(waits[2]).toBeGreaterThan(2000 - spent);
    expect(waits[2]).toBeLessThanOrEqual(2000);
    expect(await b.takeSlot('C2')).toBe(0);
  });
});
