/**
 * What `/metis admin` and an admin's Home tab show: access, queue, workers,
 * pause, budget and a default model Metis does not offer — read from Redis,
 * never from the gateway.
 */
import type { Redis } from 'ioredis';
import { AccessHealth } from '../auth/access-health.ts';
import type { TokenStore } from '../auth/token-store.ts';
import type { Config } from '../config.ts';
import { ModelCatalog } from '../models/catalog.ts';
import { defaultModelProblem } from '../models/model-names.ts';
import type { QueueControl } from './queue-control.ts';
import { type FeedbackCount, feedbackCounts, monthDays } from './usage.ts';

export interface AdminStatus {
  access: { mode: string; expiresAt?: number; problem?: { detail: string; fix: string; since: number } };
  queue: { waiting: number; running: number; parked: number; oldestWaitMs?: number };
  workers: number;
  paused?: { by: string; at: number };
  budget: { requestsPerSecond: number; tokensPerMinute: number };
  /** METIS_DEFAULT_MODEL names no model Metis offers (with the one it probably meant). */
  defaultModelProblem?: { configured: string; suggestion?: string };
  /** Thumbs up and down per model this month. */
  feedback: FeedbackCount[];
}

/** What the answer queue reports about itself (it sits above team, so team names only this shape). */
export type QueueReadings = AdminStatus['queue'] & { workers: number };

export async function readAdminStatus(deps: {
  redis: Redis;
  config: Pick<Config, 'access' | 'queue' | 'sharing'> & { gateway: Pick<Config['gateway'], 'defaultModel'> };
  queue: { readings(): Promise<QueueReadings> };
  control: QueueControl;
  tokenStore?: TokenStore;
}): Promise<AdminStatus> {
  const { config } = deps;
  const [{ workers, ...queue }, paused, problem, stored, models, feedback] = await Promise.all([
    deps.queue.readings(),
    deps.control.paused(),
    AccessHealth.read(deps.redis, config.queue.prefix),
    deps.tokenStore?.read(),
    ModelCatalog.lastKnown(deps.redis, config.queue.prefix),
    feedbackCounts(deps.redis, config.queue.prefix, monthDays()),
  ]);
  // Checked against the last model list read (none yet: nothing to say).
  const defaultModel = models ? defaultModelProblem(models.models.map((m) => m.name), config.gateway.defaultModel) : undefined;
  return {
    access: { mode: config.access.kind, ...(stored ? { expiresAt: stored.expiresAt } : {}), ...(problem ? { problem } : {}) },
    queue,
    workers,
    ...(paused ? { paused } : {}),
    budget: { requestsPerSecond: config.sharing.gatewayRequestsPerSecond, tokensPerMinute: config.sharing.gatewayTokensPerMinute },
    ...(defaultModel ? { defaultModelProblem: defaultModel } : {}),
    feedback,
  };
}
