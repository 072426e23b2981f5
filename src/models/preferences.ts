/**
 * Which model a conversation uses when none is named: a thread keeps the
 * model it started with; a channel may have a default (`/metis model`).
 */
import type { Redis } from 'ioredis';

/** Threads remember their model this long after their last question. */
const THREAD_TTL_SECONDS = 30 * 24 * 3600;

export class ModelPreferences {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private threadKey(channel: string, threadTs: string) {
    return `${this.keyPrefix}:thread-model:${channel}:${threadTs}`;
  }

  private get channelKey() {
    return `${this.keyPrefix}:channel-model`;
  }

  async forThread(channel: string, threadTs: string): Promise<{ thread?: string; channel?: string }> {
    const [thread, channelDefault] = await Promise.all([
      this.redis.get(this.threadKey(channel, threadTs)),
      this.redis.hget(this.channelKey, channel),
    ]);
    return { ...(thread ? { thread } : {}), ...(channelDefault ? { channel: channelDefault } : {}) };
  }

  async rememberForThread(channel: string, threadTs: string, model: string): Promise<void> {
    await this.redis.set(this.threadKey(channel, threadTs), model, 'EX', THREAD_TTL_SECONDS);
  }

  async channelDefault(channel: string): Promise<string | undefined> {
    return (await this.redis.hget(this.channelKey, channel)) ?? undefined;
  }

  async setChannelDefault(channel: string, model: string | undefined): Promise<void> {
    if (model) await this.redis.hset(this.channelKey, channel, model);
    else await this.redis.hdel(this.channelKey, channel);
  }
}
