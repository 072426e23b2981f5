/**
 * The fleet-wide budget that keeps every process together under the
 * gateway's limits: a request rate over a sliding 1 s window (as the gateway
 * counts) and tokens per minute per model (fixed minute windows, as the
 * gateway counts). A 429 from the gateway pauses the whole fleet briefly.
 * Redis's clock is the only clock, so processes on several machines agree.
 */
import type { Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.ts';
import { REDIS_NOW_MS } from '../redis-clock.ts';

/**
 * Returns 0 when a request may go now, else milliseconds to wait. At most
 * ARGV[2] requests in any window of ARGV[1] ms, and evenly spaced (at least
 * window/max apart), so delays on the way to the gateway cannot bunch a
 * window's requests into the next one.
 */
const ACQUIRE = `
${REDIS_NOW_MS}
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local gap = math.floor(window / max)
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
if now - last < gap then return gap - (now - last) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('SET', KEYS[3], now, 'PX', window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now + 1
`;

/** Pauses until now + ARGV[1] ms unless already paused longer. */
const PAUSE = `
${REDIS_NOW_MS}
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1])) end
return until_ - now
`;

/** Without a request budget, how often a process looks at the fleet's 429 pause. */
const PAUSE_READ_MS = 100;

export class GatewayBudget {
  private seq = 0;
  private pauseReadAt = 0;
  private pausedUntil = 0;
  /** Each model's token pause as last read: when, and until when it runs. */
  private readonly tokenPauses = new Map<string, { at: number; until: Promise<number> }>();
  /** This process's waiters, in order: only the first asks Redis. */
  private line: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly limits: { requestsPerSecond: number; tokensPerMinute: number },
    /** Times this process's waits and its token-minute windows; the fleet's windows run on Redis's clock. */
    private readonly clock: Clock = realClock,
  ) {}

  /** Waits (in this process) until one more gateway request fits the fleet's budget. */
  async acquireRequest(): Promise<void> {
    if (this.limits.requestsPerSecond <= 0) {
      // Even without a budget, a 429 pause is honoured; reading it once per PAUSE_READ_MS is enough.
      if (this.clock.now() - this.pauseReadAt > PAUSE_READ_MS) {
        this.pauseReadAt = this.clock.now();
        this.pausedUntil = this.clock.now() + Number(await this.redis.pttl(`${this.keyPrefix}:budget:paused`));
      }
      const wait = this.pausedUntil - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      return;
    }
    // Hundreds of answers may wait here at once (a busy day); each asking Redis every few milliseconds
    // would cost more than the answers themselves. They queue in this process and the first one asks.
    const turn = this.line.then(() => this.acquireFromRedis());
    this.line = turn.catch(() => undefined);
    return turn;
  }

  private async acquireFromRedis(): Promise<void> {
    for (;;) {
      const member = `${process.pid}-${++this.seq}-${Math.random()}`;
      const wait = Number(
        await this.redis.eval(
          ACQUIRE,
          3,
          `${this.keyPrefix}:budget:requests`,
          `${this.keyPrefix}:budget:paused`,
          `${this.keyPrefix}:budget:last`,
          1000,
          this.limits.requestsPerSecond,
          member,
        ),
      );
      if (wait <= 0) return;
      // Only this process's first waiter asks, so it asks again as soon as its turn may have come: every
      // millisecond of delay here is lost from the budget. (A little jitter keeps other processes out of step.)
      await this.clock.sleep(Math.min(wait, 1000) + Math.floor(Math.random() * 3));
    }
  }

  /** The gateway's request throttle answered 429: everyone waits about a second. */
  async pauseRequests(ms = 1000): Promise<void> {
    await this.redis.eval(PAUSE, 1, `${this.keyPrefix}:budget:paused`, ms);
    this.pauseReadAt = 0; // this process sees its own pause at once
  }

  private minuteKey(model: string): string {
    return `${this.keyPrefix}:budget:tokens:${model}:${Math.floor(this.clock.now() / 60_000)}`;
  }

  /** Milliseconds until the model's token budget has room again (0 = now). */
  async tokensWaitMs(model: string): Promise<number> {
    const pausedFor = await this.tokensPausedFor(model);
    if (pausedFor > 0) return pausedFor;
    if (this.limits.tokensPerMinute <= 0) return 0;
    const used = Number((await this.redis.get(this.minuteKey(model))) ?? 0);
    return used < this.limits.tokensPerMinute ? 0 : 60_000 - (this.clock.now() % 60_000) + 50;
  }

  /** A model's token pause (set on a 429 by any process): read at most once per PAUSE_READ_MS per model in this process. */
  private async tokensPausedFor(model: string): Promise<number> {
    const now = this.clock.now();
    let read = this.tokenPauses.get(model);
    if (!read || now - read.at > PAUSE_READ_MS) {
      // Stored before it settles: the answers asking meanwhile share this one read.
      const until = this.redis.pttl(`${this.keyPrefix}:budget:tokens-paused:${model}`).then((ms) => now + Number(ms));
      read = { at: now, until };
      this.tokenPauses.set(model, read);
      until.catch(() => this.tokenPauses.get(model) === read && this.tokenPauses.delete(model));
    }
    return (await read.until) - this.clock.now();
  }

  async recordTokens(model: string, tokens: number): Promise<void> {
    if (this.limits.tokensPerMinute <= 0 || tokens <= 0) return;
    const key = this.minuteKey(model);
    // Plain commands (not a MULTI, which always travels alone): they share the round trip of the answer's other bookkeeping.
    await Promise.all([this.redis.incrby(key, tokens), this.redis.expire(key, 120)]);
  }

  /** The gateway's token limit answered 429: nobody asks that model until its minute window has reset. */
  async pauseTokens(model: string, ms = 60_000): Promise<void> {
    await this.redis.eval(PAUSE, 1, `${this.keyPrefix}:budget:tokens-paused:${model}`, ms);
    this.tokenPauses.delete(model); // this process sees its own pause at once
  }
}
