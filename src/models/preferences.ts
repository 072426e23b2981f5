/**
 * Which model a conversation uses when none is named: a thread keeps the
 * model most recently named with -m in it (a default or a fallback that
 * answered is not remembered, so it never displaces a person's choice); a
 * channel may have a default (`/metis model`).
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

/** Threads remember their model this long after their last question. */
const THREAD_TTL_SECONDS = 30 * 24 * 3600;

export class ModelPreferences {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private threadKey(channel: string, threadTs: string) {
    return redisKeys(this.keyPrefix).threadModel(channel, threadTs);
  }

  private get channelKey() {
    return redisKeys(this.keyPrefix).channelModel;
  }

  async forThread(channel: string, threadTs: string): Promise<{ thread?: string; channel?: string }> {
    const [thread, channelDefault] = await Promise.all([
      this.redis.get(this.threadKey(channel, threadTs)),
      this.redis.hget(this.channelKey, channel),
    ]);
    return { ...(thread ? { thread } : {}), ...(channelDefault ? { channel: channelDefault } : {}) };
  }

  /** Remembers the model named with -m in a thread (again each time the thread uses it, to keep it alive). */
  async rememberForThread(channel: string, threadTs: string, model: string): Promise<void> {
    await this.redis.set(this.threadKey(channel, threadTs), model, 'EX', THREAD_TTL_SECONDS);
  }

  async channelDefault(channel: string): Promise<string | undefined> {
    return (await this.redis.hget(this.channelKey, channel)) ?? undefined;
  }

  /** Sets (or with no model, clears) a channel's default; remembers who set it. */
  async setChannelDefault(channel: string, model: string | undefined, by?: string): Promise<void> {
    if (model) {
      await this.redis.multi().hset(this.channelKey, channel, model).hset(`${this.channelKey}-by`, channel, by ?? '').exec();
    } else {
      await this.redis.multi().hdel(this.channelKey, channel).hdel(`${this.channelKey}-by`, channel).exec();
    }
  }

  /** The channel defaults a person set: channel → model. */
  async defaultsSetBy(user: string): Promise<Record<string, string>> {
    const [models, setters] = await Promise.all([this.redis.hgetall(this.channelKey), this.redis.hgetall(`${this.channelKey}-by`)]);
    return Object.fromEntries(Object.entries(models).filter(([channel]) => setters[channel] === user));
  }
}
