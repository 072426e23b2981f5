/**
 * ALCF asks the person behind a login to log in again periodically (every 30
 * days under the current policy). A refresh token stops working then, and the
 * bot could only tell the admins after questions began to wait. This warns
 * them a few days ahead instead, once per login, fleet-wide.
 */
import type { Redis } from 'ioredis';
import type { TokenStore } from './token-store.ts';
import { redisKeys } from '../redis-keys.ts';

export interface LoginLapsePolicy {
  /** How long a login lasts before ALCF asks for a new one. */
  maxAgeMs: number;
  /** How long before that the admins are told. */
  warnBeforeMs: number;
}

export interface LoginLapseNotifier {
  reloginDue(due: { loggedInAt: number; dueAt: number }): Promise<void>;
}

export type LoginLapseCheck = 'not-a-login' | 'not-yet' | 'warned' | 'already-warned';

/**
 * Checks the stored login and, once it is within `warnBeforeMs` of lapsing,
 * tells the admins: only the first process to claim the warning for this login
 * sends it. `now` is injectable so tests need not wait weeks.
 */
export async function checkLoginLapse(opts: {
  store: TokenStore;
  redis: Redis;
  keyPrefix: string;
  policy: LoginLapsePolicy;
  notifier: LoginLapseNotifier;
  now?: number;
}): Promise<LoginLapseCheck> {
  const now = opts.now ?? Date.now();
  const stored = await opts.store.read();
  if (stored?.mode !== 'user-login' || stored.loggedInAt === undefined) return 'not-a-login';
  const dueAt = stored.loggedInAt + opts.policy.maxAgeMs;
  if (now < dueAt - opts.policy.warnBeforeMs) return 'not-yet';
  // Keyed by the login's time: a new login is warned about in its turn.
  const claimed = await opts.redis.set(redisKeys(opts.keyPrefix).reloginWarned(stored.loggedInAt), String(now), 'PX', opts.policy.maxAgeMs, 'NX');
  if (claimed !== 'OK') return 'already-warned';
  await opts.notifier.reloginDue({ loggedInAt: stored.loggedInAt, dueAt });
  return 'warned';
}
