/**
 * Fair turns between people. A question's queue priority is how many of its
 * asker's questions are already pending, so when many wait each person gets
 * turns in rotation: one person's 300 questions cannot push another's single
 * question back by more than a turn or two. A per-person cap on questions
 * running at once keeps one person from filling every worker.
 */
import type { Redis } from 'ioredis';
import { REDIS_NOW_MS } from '../redis-clock.ts';
import { redisKeys } from '../redis-keys.ts';

/** BullMQ priorities go up to 2^21; beyond, everyone heavy is equally last. */
const MAX_PRIORITY = 2_097_152;
/** A running entry older than this is from a process that died; it no longer counts. */
const STALE_RUNNING_MS = 15 * 60_000;

/** Atomically: forget stale entries, then claim a slot if the job has one or one is free. */
const CLAIM_SLOT = `
${REDIS_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

/** Marks the job seen; counts it for the user only the first time; returns the user's pending count. */
const COUNT_ONCE = `
local fresh = redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[2]), 'NX')
local pending
if fresh then pending = redis.call('HINCRBY', KEYS[2], ARGV[1], 1) else pending = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '1') end
redis.call('EXPIRE', KEYS[2], 86400)
return pending
`;
/** ARGV: user, count, user, count…: that many questions fewer pending for each; an entry goes when none are left. */
const COUNT_DONE = `
for i = 1, #ARGV, 2 do
  local left = redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1]))
  if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
`;
/**
 * Finished questions are given back together, at most this long after the first: a busy worker finishes
 * hundreds a second, mostly of a few people. Meanwhile their askers' next questions queue at most a turn later.
 */
const DONE_FLUSH_MS = 250;
/** Slack redelivers within minutes; a message is remembered as seen for an hour. */
const SEEN_SECONDS = 3600;

export class FairShare {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly userConcurrency: number,
  ) {}

  private get pendingKey() {
    return redisKeys(this.keyPrefix).fairPending;
  }

  /**
   * Counts a new question for `user` and returns its queue priority (1 =
   * first). A redelivered message (same job id) is not counted twice.
   */
  async enqueued(user: string, jobId: string): Promise<number> {
    const pending = Number(await this.redis.eval(COUNT_ONCE, 2, redisKeys(this.keyPrefix).fairSeen(jobId), this.pendingKey, user, SEEN_SECONDS));
    return Math.min(MAX_PRIORITY, Math.max(1, pending));
  }

  private done = new Map<string, number>();
  private doneTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  /**
   * A question of `user` finished for good (answered, refused or failed); settles once that is written,
   * within DONE_FLUSH_MS, or at once with `now` (a person is waiting on it).
   */
  finished(user: string, opts: { now?: boolean } = {}): Promise<void> {
    this.done.set(user, (this.done.get(user) ?? 0) + 1);
    const written = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (opts.now) void this.flush().catch(() => undefined);
    else this.doneTimer ??= setTimeout(() => void this.flush().catch(() => undefined), DONE_FLUSH_MS).unref();
    return written;
  }

  /** Writes the finished questions gathered so far (one script call); those waiting on them settle with it. */
  flush(): Promise<void> {
    clearTimeout(this.doneTimer);
    this.doneTimer = undefined;
    const batch = this.done;
    const waiting = this.waiting;
    this.done = new Map();
    this.waiting = [];
    if (batch.size === 0) {
      for (const w of waiting) w.resolve();
      return this.writing;
    }
    const args = [...batch].flatMap(([user, n]) => [user, String(n)]);
    const written = this.writing.then(() => this.redis.eval(COUNT_DONE, 1, this.pendingKey, ...args)).then(() => undefined);
    written.then(
      () => {
        for (const w of waiting) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiting) w.reject(err);
      },
    );
    this.writing = written.catch(() => undefined);
    return written;
  }

  /** Claims a running slot for the job; false when the person already has their share running. */
  async start(user: string, jobId: string): Promise<boolean> {
    if (this.userConcurrency <= 0) return true;
    const claimed = await this.redis.eval(
      CLAIM_SLOT,
      1,
      redisKeys(this.keyPrefix).fairRunning(user),
      jobId,
      this.userConcurrency,
      STALE_RUNNING_MS,
    );
    return claimed === 1;
  }

  async stop(user: string, jobId: string): Promise<void> {
    if (this.userConcurrency <= 0) return;
    await this.redis.zrem(redisKeys(this.keyPrefix).fairRunning(user), jobId);
  }
}
