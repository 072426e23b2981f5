/**
 * The scrape-time numbers of a running service, read from Redis when
 * /metrics is fetched: BullMQ's own job counts, the oldest wait, the fleet's
 * gateway request window, and the shared token's expiry.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TokenStore } from '../auth/token-store.ts';
import type { Config } from '../config.ts';
import { ANSWER_QUEUE } from '../queue/answer-job.ts';
import { REDIS_NOW_MS } from '../redis-clock.ts';
import { oldestWaitSeconds } from '../metrics/instrument.ts';
import { setScrapeSources } from '../metrics/registry.ts';
import { redisKeys } from '../redis-keys.ts';

/** Requests in the budget's sliding one-second window, by Redis's clock (as the budget itself counts). */
const REQUESTS_IN_WINDOW = `
${REDIS_NOW_MS}
return redis.call('ZCOUNT', KEYS[1], now - 1000, '+inf')`;

export function opsSources(opts: { redis: Redis; config: Config; tokenStore?: TokenStore }): { close(): Promise<void> } {
  const { redis, config, tokenStore } = opts;
  // Made on the first scrape: a process nobody scrapes keeps no queue handle.
  let queue: Queue | undefined;
  const answers = () => {
    queue ??= new Queue(ANSWER_QUEUE, { connection: redis, prefix: config.queue.prefix });
    return queue;
  };
  setScrapeSources({
    queueCounts: () => answers().getJobCounts(),
    oldestWaitSeconds: () => oldestWaitSeconds(answers()),
    gatewayBudget: async () => ({
      inUse: Number(await redis.eval(REQUESTS_IN_WINDOW, 1, redisKeys(config.queue.prefix).budgetRequests)),
      limit: config.sharing.gatewayRequestsPerSecond,
    }),
    token: async () => {
      const t = await tokenStore?.read();
      return t ? { mode: t.mode, expiresAtMs: t.expiresAt } : undefined;
    },
  });
  return {
    close: async () => {
      setScrapeSources({});
      await queue?.close();
    },
  };
}
