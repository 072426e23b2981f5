/**
 * The gateway's request budget with many answers waiting in one process (a
 * busy day): they take their turns in order, and only one of them at a time
 * asks Redis, so waiting costs Redis about one call per request, not one per
 * waiter every few milliseconds.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayBudget } from '../../src/team/gateway-budget.ts';
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

async function scriptCalls(): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/cmdstat_(?:eval|evalsha):calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

describe('the gateway request budget under many waiters', () => {
  it('40 waiters at 20 requests a second: served in order, about one Redis call each', async () => {
    const budget = new GatewayBudget(redis, 'busy', { requestsPerSecond: 20, tokensPerMinute: 0 });
    const before = await scriptCalls();
    const order: number[] = [];
    await Promise.all(Array.from({ length: 40 }, (_, i) => budget.acquireRequest().then(() => order.push(i))));
    const calls = (await scriptCalls()) - before;
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Each request is one successful call, after at most about one call that was told to wait its gap.
    expect(calls).toBeLessThanOrEqual(40 * 2 + 5);
  }, 30_000);
});
