/**
 * What `/metis admin` and an admin's Home tab show: access, queue, workers,
 * pause and budget — read from Redis, never from the gateway.
 */
import type { Redis } from 'ioredis';
import { AccessHealth } from '../auth/access-health.ts';
import type { TokenStore } from '../auth/token-store.ts';
import type { Config } from '../config.ts';
import { ModelCatalog } from '../models/catalog.ts';
import { defaultModelProblem } from '../models/choose-model.ts';
import type { AnswerQueue } from '../queue/answer-queue.ts';
import type { AdminStatus } from '../slack/views/team.ts';
import type { QueueControl } from './queue-control.ts';

/** How many waiting jobs are looked at to find the oldest. */
const OLDEST_SCAN = 200;

export async function readAdminStatus(deps: {
  redis: Redis;
  config: Pick<Config, 'access' | 'queue' | 'sharing'> & { gateway: Pick<Config['gateway'], 'defaultModel'> };
  queue: AnswerQueue;
  control: QueueControl;
  tokenStore?: TokenStore;
}): Promise<AdminStatus> {
  const { config, queue } = deps;
  const [counts, workers, paused, problem, stored, waiting, models] = await Promise.all([
    queue.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed'),
    queue.queue.getWorkersCount(),
    deps.control.paused(),
    AccessHealth.read(deps.redis, config.queue.prefix),
    deps.tokenStore?.read(),
    queue.queue.getJobs(['prioritized', 'waiting'], 0, OLDEST_SCAN - 1),
    ModelCatalog.lastKnown(deps.redis, config.queue.prefix),
  ]);
  // Checked against the last model list read (none yet: nothing to say).
  const defaultModel = models ? defaultModelProblem(models.models.map((m) => m.name), config.gateway.defaultModel) : undefined;
  const oldestAt = Math.min(...waiting.map((j) => j.timestamp));
  return {
    access: { mode: config.access.kind, ...(stored ? { expiresAt: stored.expiresAt } : {}), ...(problem ? { problem } : {}) },
    queue: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      running: counts.active ?? 0,
      parked: counts.delayed ?? 0,
      ...(Number.isFinite(oldestAt) ? { oldestWaitMs: Date.now() - oldestAt } : {}),
    },
    workers,
    ...(paused ? { paused } : {}),
    budget: { requestsPerSecond: config.sharing.gatewayRequestsPerSecond, tokensPerMinute: config.sharing.gatewayTokensPerMinute },
    ...(defaultModel ? { defaultModelProblem: defaultModel } : {}),
  };
}
