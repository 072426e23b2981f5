/**
 * The gateway's request budget with many answers waiting in one process (a
 * busy day): they take their turns in order, and only one of them at a time
 * asks Redis, so waiting costs Redis about one call per request, not one per
 * waiter every few milliseconds. The process's own waits and token-minute
 * windows run on an injected clock, stepped through exactly.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayBudget } from '../../src/team/gateway-budget.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

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

describe('the gateway budget on its own clock', () => {
  it("a model's token budget resets with the minute, and says exactly when", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 15, 12, 30, 10));
    const budget = new GatewayBudget(redis, 'tokens', { requestsPerSecond: 0, tokensPerMinute: 100 }, clock);
    await budget.recordTokens('m', 60);
    expect(await budget.tokensWaitMs('m')).toBe(0);
    await budget.recordTokens('m', 40);
    // Spent at 12:30:10: room again at 12:31:00, plus a little margin for the gateway's own window.
    expect(await budget.tokensWaitMs('m')).toBe(50_050);
    expect(await budget.tokensWaitMs('other')).toBe(0);
    clock.advance(49_999);
    expect(await budget.tokensWaitMs('m')).toBe(51);
    clock.advance(1);
    expect(await budget.tokensWaitMs('m')).toBe(0);
  });

  it("without a request budget a 429 pause is still honoured, and read from Redis at most every 100 ms", async () => {
    const clock = new ManualClock();
    const budget = new GatewayBudget(redis, 'pause', { requestsPerSecond: 0, tokensPerMinute: 0 }, clock);
    const otherProcess = new GatewayBudget(redis, 'pause', { requestsPerSecond: 0, tokensPerMinute: 0 });
    await budget.acquireRequest(); // nobody paused: at once (and the pause was read just now)
    await otherProcess.pauseRequests(5000); // long enough that a loaded machine cannot outlast it here
    await budget.acquireRequest(); // read under 100 ms ago: this process does not know yet
    clock.advance(101);
    let through = false;
    const acquired = budget.acquireRequest().then(() => {
      through = true;
    });
    await waitFor(() => clock.sleeping().length === 1, 'the request waiting on the clock');
    const [wait = 0] = clock.sleeping();
    // It waits what was left of the pause when it read it: no more than the pause, no less than is left now.
    const leftNow = await redis.pttl('pause:budget:paused');
    expect(leftNow).toBeGreaterThan(0);
    expect(wait).toBeGreaterThanOrEqual(leftNow);
    expect(wait).toBeLessThanOrEqual(5000);
    clock.advance(wait - 1);
    expect(through).toBe(false);
    clock.advance(1);
    await acquired;
    expect(through).toBe(true);
  });
});
