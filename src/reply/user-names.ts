/**
 * Display names for user ids (`<@U123>` → "Ada"), so the model sees who said
 * what. Names are cosmetic, so looking them up never holds an answer back:
 * they are cached fleet-wide in Redis, each request asks Slack for at most a
 * few, the fleet for at most a set number a minute (users.info is Tier 4),
 * and when Slack says wait anyway the fleet stops asking for a while. A name
 * not looked up stays the id.
 */
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.ts';
import { MinuteBudget } from '../minute-budget.ts';
import { redisKeys } from '../redis-keys.ts';
import { slackFailure } from './web-client.ts';

export interface UserNamesOptions {
  /** users.info calls one request may make; further unknown ids stay ids. */
  maxLookupsPerRequest?: number;
  /** How long a name is trusted, fleet-wide. */
  ttlSeconds?: number;
  /** How many users.info calls one request runs at once. */
  concurrency?: number;
  /** users.info calls the whole fleet makes a minute (METIS_SLACK_NAME_LOOKUPS_PER_MINUTE). */
  lookupsPerMinute?: number;
  /** Decides which minute a lookup counts in. */
  clock?: Clock;
}

/** How long a name is trusted, fleet-wide, by default. */
export const NAME_TTL_SECONDS = 3600;
const DEFAULTS = { maxLookupsPerRequest: 50, ttlSeconds: NAME_TTL_SECONDS, concurrency: 5, lookupsPerMinute: 60, clock: realClock };

/** The name people see for a user as users.info describes them. */
export function displayName(u: { profile?: { display_name?: string }; real_name?: string; name?: string } | undefined, id: string): string {
  return u?.profile?.display_name || u?.real_name || u?.name || id;
}
/** Ids read from Redis per MGET. */
const READ_CHUNK = 500;
/** A name read once is kept in the process this long: the same people ask again and again. */
const LOCAL_MS = 60_000;
/** At most this many names kept in the process. */
const LOCAL_MAX = 10_000;

export class UserNames {
  private readonly opts: Required<UserNamesOptions>;
  /** Names this process read or looked up lately, with when each stops being trusted here. */
  private readonly local = new Map<string, { name: string; until: number }>();
  private readonly budget: MinuteBudget;

  constructor(
    private readonly client: WebClient,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    opts: UserNamesOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.budget = new MinuteBudget(redis, redisKeys(keyPrefix).nameLookups, this.opts.lookupsPerMinute, this.opts.clock);
  }

  private key(id: string) {
    return redisKeys(this.keyPrefix).slackName(id);
  }

  private get pausedKey() {
    return redisKeys(this.keyPrefix).slackNamePaused;
  }

  /** A name for every id: the cached or looked-up name, else the id itself. Never throws. */
  async lookup(ids: Iterable<string>): Promise<Map<string, string>> {
    const now = Date.now();
    const out = new Map<string, string>();
    const wanted: string[] = [];
    for (const id of new Set(ids)) {
      const kept = this.local.get(id);
      out.set(id, kept && kept.until > now ? kept.name : id);
      if (!kept || kept.until <= now) wanted.push(id);
    }
    const missing: string[] = [];
    let granted = 0;
    try {
      for (let i = 0; i < wanted.length; i += READ_CHUNK) {
        const chunk = wanted.slice(i, i + READ_CHUNK);
        const cached = await this.redis.mget(chunk.map((id) => this.key(id)));
        chunk.forEach((id, j) => {
          const name = cached[j];
          if (name) this.keep(id, name, out);
          else missing.push(id);
        });
      }
      if (missing.length === 0 || (await this.redis.exists(this.pausedKey))) return out;
      // The first ids are the ones that matter most (the caller lists the asker and the newest speakers first).
      granted = await this.budget.takeUpTo(Math.min(missing.length, this.opts.maxLookupsPerRequest));
    } catch {
      return out; // Redis trouble: ids are enough to answer with
    }

    const queue = missing.slice(0, granted);
    const found: [string, string][] = [];
    let stopped = false;
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined && !stopped; id = queue.shift()) {
        try {
          const res = await this.client.users.info({ user: id });
          found.push([id, displayName(res.user, id)]);
        } catch (err) {
          const f = slackFailure(err);
          if (f?.error === 'ratelimited') {
            // Nobody in the fleet asks again until Slack's wait is over; this answer goes on with ids.
            stopped = true;
            await this.redis.set(this.pausedKey, '1', 'PX', Math.max(1000, f.retryAfterMs ?? 1000)).catch(() => undefined);
          } else if (f?.error === 'user_not_found' || f?.error === 'user_not_visible') {
            found.push([id, id]); // remembered too, so the same unknown id is not asked for again
          }
          // Anything else (users:read missing, Slack unreachable): the id still identifies the speaker.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, queue.length) }, worker));

    for (const [id, name] of found) this.keep(id, name, out);
    if (found.length) {
      const multi = this.redis.multi();
      for (const [id, name] of found) multi.set(this.key(id), name, 'EX', this.opts.ttlSeconds);
      await multi.exec().catch(() => undefined);
    }
    return out;
  }

  private keep(id: string, name: string, out: Map<string, string>): void {
    out.set(id, name);
    this.local.delete(id); // re-inserted last: the oldest are dropped first
    if (this.local.size >= LOCAL_MAX) this.local.delete(this.local.keys().next().value as string);
    this.local.set(id, { name, until: Date.now() + LOCAL_MS });
  }
}
