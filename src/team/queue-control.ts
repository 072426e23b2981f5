/**
 * An admin's pause: while paused, questions wait in the queue (each told so
 * in its thread) and are answered after resume. A flag in Redis, seen by
 * every worker: each process reads it at most once a second (every answer
 * looks at it), so a pause set by another process holds new questions within
 * a second.
 */
import type { Redis } from 'ioredis';
import { cachedRead } from '../cached-read.ts';
import { redisKeys } from '../redis-keys.ts';

export interface PauseState {
  by: string;
  at: number;
}

/** How often a process reads the pause flag (its own pause and resume are seen at once). */
const READ_EVERY_MS = 1000;

export class QueueControl {
  private readonly read = cachedRead(READ_EVERY_MS, async () => {
    const raw = await this.redis.get(this.key);
    return raw ? (JSON.parse(raw) as PauseState) : undefined;
  });

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private get key() {
    return redisKeys(this.keyPrefix).paused;
  }

  paused(): Promise<PauseState | undefined> {
    return this.read();
  }

  async pause(by: string): Promise<void> {
    await this.redis.set(this.key, JSON.stringify({ by, at: Date.now() }));
    this.read.forget();
  }

  async resume(): Promise<void> {
    await this.redis.del(this.key);
    this.read.forget();
  }
}
