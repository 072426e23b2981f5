/**
 * A person's request to stop waiting (the Cancel button on a waiting note),
 * visible to every process: a flag in Redis that the worker checks whenever
 * the request wakes.
 */
import type { Redis } from 'ioredis';

const KEEP_SECONDS = 24 * 3600;

export class Cancellations {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private key(jobId: string) {
    return `${this.keyPrefix}:cancelled:${jobId}`;
  }

  async cancel(jobId: string, by: string): Promise<void> {
    await this.redis.set(this.key(jobId), by, 'EX', KEEP_SECONDS);
  }

  /** Who cancelled the request, if anyone did. */
  async cancelledBy(jobId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(jobId))) ?? undefined;
  }
}
