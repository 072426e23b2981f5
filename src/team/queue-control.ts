/**
 * An admin's pause: while paused, questions wait in the queue (each told so
 * in its thread) and are answered after resume. A flag in Redis, seen by
 * every worker.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

export interface PauseState {
  by: string;
  at: number;
}

export class QueueControl {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private get key() {
    return redisKeys(this.keyPrefix).paused;
  }

  async paused(): Promise<PauseState | undefined> {
    const raw = await this.redis.get(this.key);
    return raw ? (JSON.parse(raw) as PauseState) : undefined;
  }

  async pause(by: string): Promise<void> {
    await this.redis.set(this.key, JSON.stringify({ by, at: Date.now() }));
  }

  async resume(): Promise<void> {
    await this.redis.del(this.key);
  }
}
