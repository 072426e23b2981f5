/**
 * What `/metis admin` and an admin's Home tab show: access, queue, workers,
 * pause and budget — read from Redis, never from the gateway.
 */
import type { Redis } from 'ioredis';
import { AccessHealth } from '../auth/access-health.ts';
import type { TokenStore } from '../auth/token-store.ts';
import type { Config } from '../config.ts';
import type { QueueControl } from './queue-control.ts';

export interface AdminStatus {
  access: { mode: string; expiresAt?: number; problem?: { detail: string; fix: string; since: number } };
  queue: { waiting: number; running: number; parked: number; oldestWaitMs?: number };
  workers: number;
  paused?: { by: string; at: number };
  budget: { requestsPerSecond: number; tokensPerMinute: number };
}

/** What the answer queue reports about itself (it sits above team, so team names only this shape). */
export type QueueReadings = AdminStatus['queue'] & { workers: number };

export async function readAdminStatus(deps: {
  redis: Redis;
  config: Pick<Config, 'access' | 'queue' | 'sharing'>;
  queue: { readings(): Promise<QueueReadings> };
  control: QueueControl;
  tokenStore?: TokenStore;
}): Promise<AdminStatus> {
  const { config } = deps;
  const [{ workers, ...queue }, paused, problem, stored] = await Promise.all([
    deps.queue.readings(),
    deps.control.paused(),
    AccessHealth.read(deps.redis, config.queue.prefix),
    deps.tokenStore?.read(),
  ]);
  return {
    access: { mode: config.access.kind, ...(stored ? { expiresAt: stored.expiresAt } : {}), ...(problem ? { problem } : {}) },
    queue,
    workers,
    ...(paused ? { paused } : {}),
    budget: { requestsPerSecond: config.sharing.gatewayRequestsPerSecond, tokensPerMinute: config.sharing.gatewayTokensPerMinute },
  };
}
