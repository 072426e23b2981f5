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
    const key = `${this.keyPrefix}:fair:running:${user}`;
    const now = Date.now();
    const [, , [, already], [, count]] = (await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', now - STALE_RUNNING_MS)
      .expire(key, STALE_RUNNING_MS / 1000)
      .zscore(key, jobId)
      .zcard(key)
      .exec()) as [unknown, unknown, [unknown, string | null], [unknown, number]];
    if (already === null && count >= this.userConcurrency) return false;
    await this.redis.zadd(key, now, jobId);
    return true;
  }

  async stop(user: string, jobId: string): Promise<void> {
    if (this.userConcurrency <= 0) return;
    await this.redis.zrem(`${this.keyPrefix}:fair:running:${user}`, jobId);
  }
}
