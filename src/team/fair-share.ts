/**
 * Fair turns between people. A question's queue priority is how many of its
 * asker's questions are already pending, so when many wait each person gets
 * turns in rotation: one person's 300 questions cannot push another's single
 * question back by more than a turn or two. A per-person cap on questions
 * running at once keeps one person from filling every worker.
 */
import type { Redis } from 'ioredis';

/** BullMQ priorities go up to 2^21; beyond, everyone heavy is equally last. */
const MAX_PRIORITY = 2_097_152;
/** A running entry older than this is from a process that died; it no longer counts. */
const STALE_RUNNING_MS = 15 * 60_000;

/** Atomically: forget stale entries, then claim a slot if the job has one or one is free. */
const CLAIM_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

export class FairShare {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly userConcurrency: number,
  ) {}

  private get pendingKey() {
    return `${this.keyPrefix}:fair:pending`;
  }

  /** Counts a new question for `user` (unless it is a redelivery); returns its queue priority (1 = first). */
  async enqueued(user: string, isNew = true): Promise<number> {
    const [[, pending]] = (await this.redis
      .multi()
      .hincrby(this.pendingKey, user, isNew ? 1 : 0)
      .expire(this.pendingKey, 24 * 3600)
      .exec()) as [[unknown, number]];
    return Math.min(MAX_PRIORITY, Math.max(1, pending));
  }

  /** A question of `user` finished for good (answered, refused or failed). */
  async finished(user: string): Promise<void> {
    const left = await this.redis.hincrby(this.pendingKey, user, -1);
    if (left <= 0) await this.redis.hdel(this.pendingKey, user);
  }

  /** Claims a running slot for the job; false when the person already has their share running. */
  async start(user: string, jobId: string): Promise<boolean> {
    if (this.userConcurrency <= 0) return true;
    const claimed = await this.redis.eval(
      CLAIM_SLOT,
      1,
      `${this.keyPrefix}:fair:running:${user}`,
      jobId,
      this.userConcurrency,
      STALE_RUNNING_MS,
    );
    return claimed === 1;
  }

  async stop(user: string, jobId: string): Promise<void> {
    if (this.userConcurrency <= 0) return;
    await this.redis.zrem(`${this.keyPrefix}:fair:running:${user}`, jobId);
  }
}
