/**
 * Per-person (and per-channel) limits: requests per hour and tokens per UTC
 * day, in fixed windows so "when it resets" has one clear answer.
 */
import type { Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { utcDay } from './usage.ts';
import { WORDS } from '../words.ts';

export type LimitKind = 'user_requests_per_hour' | 'user_tokens_per_day' | 'channel_requests_per_hour';

export type LimitDecision = { ok: true } | { ok: false; kind: LimitKind; limit: number; resetAt: number };

const hourBucket = (t: number) => Math.floor(t / 3_600_000);
const nextHour = (t: number) => (hourBucket(t) + 1) * 3_600_000;
const nextDay = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
};

export class UsageLimits {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly limits: Pick<Config['sharing'], 'userRequestsPerHour' | 'userTokensPerDay' | 'channelRequestsPerHour'>,
    /** Decides which hour and UTC day a request counts in. */
    private readonly clock: Clock = realClock,
  ) {}

  private keys(user: string, channel: string, now: number) {
    return {
      userHour: `${this.keyPrefix}:limit:user-req:${user}:${hourBucket(now)}`,
      channelHour: `${this.keyPrefix}:limit:channel-req:${channel}:${hourBucket(now)}`,
      userDay: `${this.keyPrefix}:limit:user-tokens:${user}:${utcDay(now)}`,
    };
  }

  /** Admits one request (counting it) or says which limit is reached and when it resets. */
  async admit(user: string, channel: string): Promise<LimitDecision> {
    const { userRequestsPerHour, userTokensPerDay, channelRequestsPerHour } = this.limits;
    // One instant for the whole decision, so the windows counted and the reset announced agree.
    const now = this.clock.now();
    const k = this.keys(user, channel, now);
    if (userTokensPerDay > 0 && Number((await this.redis.get(k.userDay)) ?? 0) >= userTokensPerDay)
      return { ok: false, kind: 'user_tokens_per_day', limit: userTokensPerDay, resetAt: nextDay(now) };
    if (userRequestsPerHour > 0 && !(await this.take(k.userHour, userRequestsPerHour)))
      return { ok: false, kind: 'user_requests_per_hour', limit: userRequestsPerHour, resetAt: nextHour(now) };
    if (channelRequestsPerHour > 0 && !(await this.take(k.channelHour, channelRequestsPerHour))) {
      // The person's question was counted above but is not asked: give it back.
      if (userRequestsPerHour > 0) await this.redis.decr(k.userHour);
      return { ok: false, kind: 'channel_requests_per_hour', limit: channelRequestsPerHour, resetAt: nextHour(now) };
    }
    return { ok: true };
  }

  /** Counts one request in an hourly window; false (and not counted) when the window is full. */
  private async take(key: string, limit: number): Promise<boolean> {
    const n = await this.redis.incr(key);
    if (n === 1) await this.redis.expire(key, 7200);
    if (n <= limit) return true;
    await this.redis.decr(key);
    return false;
  }

  async recordTokens(user: string, tokens: number): Promise<void> {
    if (this.limits.userTokensPerDay <= 0 || tokens <= 0) return;
    const key = this.keys(user, '', this.clock.now()).userDay;
    // Plain commands (not a MULTI, which always travels alone): they share the round trip of the answer's other bookkeeping.
    await Promise.all([this.redis.incrby(key, tokens), this.redis.expire(key, 2 * 86_400)]);
  }

  /** Where a person stands against their limits (for /metis usage and the Home tab). */
  async standing(user: string): Promise<{ requestsThisHour: number; tokensToday: number }> {
    const k = this.keys(user, '', this.clock.now());
    const [req, tok] = await this.redis.mget(k.userHour, k.userDay);
    return { requestsThisHour: Number(req ?? 0), tokensToday: Number(tok ?? 0) };
  }
}

export function limitMessage(d: Exclude<LimitDecision, { ok: true }>, now = Date.now()): string {
  const minutes = Math.max(1, Math.ceil((d.resetAt - now) / 60_000));
  const at = new Date(d.resetAt).toISOString().slice(11, 16);
  const when = minutes < 120 ? `in ${minutes} min (${at} UTC)` : `at ${at} UTC`;
  switch (d.kind) {
    case 'user_requests_per_hour':
      return WORDS.limit_user_hour({ limit: d.limit, when });
    case 'channel_requests_per_hour':
      return WORDS.limit_channel_hour({ limit: d.limit, when });
    case 'user_tokens_per_day':
      return WORDS.limit_user_tokens({ limit: d.limit, when });
  }
}
