/**
 * Who the bot last answered in each channel thread. That person's later
 * replies in the thread are follow-ups, answered without a mention; everyone
 * else there still mentions the bot, so people talking to each other in the
 * thread are not interrupted. A bot in a channel receives every message in
 * it, so the check has to be cheap: one GET of one small key per thread
 * reply, instead of reading the thread from Slack.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

/** As long as a thread keeps its model: people come back to a conversation days later. */
const ASKER_TTL_SECONDS = 30 * 24 * 3600;

export class ThreadAskers {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /** `user` was answered in this thread: they are its asker now (replacing whoever was before). */
  async remember(channel: string, threadTs: string, user: string): Promise<void> {
    await this.redis.set(redisKeys(this.keyPrefix).threadAsker(channel, threadTs), user, 'EX', ASKER_TTL_SECONDS);
  }

  /** The person the bot last answered in this thread, if any (within the TTL). */
  async asker(channel: string, threadTs: string): Promise<string | undefined> {
    return (await this.redis.get(redisKeys(this.keyPrefix).threadAsker(channel, threadTs))) ?? undefined;
  }
}
