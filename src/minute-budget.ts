/**
 * A fleet-wide number of calls a minute, counted in Redis: Slack's tiers
 * count per method and workspace, so every process of the app spends from
 * the same count. Used where a call can simply be left out when the minute's
 * budget is spent (a status line, a display name), rather than waited for.
 *
 * Minutes are the process's clock's: machines a second apart at most split
 * one minute's budget across two keys, which tiers (counted over a rolling
 * minute, with bursts allowed) absorb.
 */
import type { Redis } from 'ioredis';
import { type Clock, realClock } from './clock.ts';

/** Adds ARGV[1] to this minute's key, which lives two minutes (one script: two commands, not MULTI's four). */
const TAKE = `local n = redis.call('INCRBY', KEYS[1], ARGV[1]) if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], 120) end return n`;

export class MinuteBudget {
  /** The minute whose budget this process saw spent: no need to ask Redis again until the next one. */
  private spentMinute = -1;

  constructor(
    private readonly redis: Redis,
    /** The Redis key counting one minute (minutes since the epoch). */
    private readonly keyOf: (minute: number) => string,
    /** Calls the fleet may make a minute; 0 = none. */
    private readonly perMinute: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** One call, if the minute's budget has room. */
  async take(): Promise<boolean> {
    return (await this.takeUpTo(1)) === 1;
  }

  /** Up to `wanted` calls: how many the minute's budget has room for (0 when spent). */
  async takeUpTo(wanted: number): Promise<number> {
    const minute = Math.floor(this.clock.now() / 60_000);
    if (wanted <= 0 || this.perMinute <= 0 || minute === this.spentMinute) return 0;
    const total = Number(await this.redis.eval(TAKE, 1, this.keyOf(minute), wanted));
    if (total >= this.perMinute) this.spentMinute = minute;
    return Math.max(0, Math.min(wanted, this.perMinute - (total - wanted)));
  }
}
