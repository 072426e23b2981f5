/**
 * A channel's own instructions for the model (`/metis instructions <text>`):
 * a short system prompt sent with every question asked in that channel
 * ("answer as a Fortran reviewer"). Kept short so it steers the answers
 * without crowding the conversation out of the model's context.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

/** The longest instructions a channel may set, in characters (as typed, Slack markup included). */
export const INSTRUCTIONS_MAX_CHARS = 500;

export interface ChannelInstructionsEntry {
  text: string;
  /** Who set them. */
  by: string;
}

export class ChannelInstructions {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private get key() {
    return redisKeys(this.keyPrefix).channelInstructions;
  }

  async get(channel: string): Promise<ChannelInstructionsEntry | undefined> {
    const raw = await this.redis.hget(this.key, channel);
    if (!raw) return undefined;
    try {
      const entry = JSON.parse(raw) as Partial<ChannelInstructionsEntry>;
      return typeof entry.text === 'string' && entry.text ? { text: entry.text, by: String(entry.by ?? '') } : undefined;
    } catch {
      return undefined; // not ours to read: treated as none rather than failing every question here
    }
  }

  /** The text the model is given for questions in this channel, if any. */
  async forChannel(channel: string): Promise<string | undefined> {
    return (await this.get(channel))?.text;
  }

  /** Sets them; the caller has checked the length against INSTRUCTIONS_MAX_CHARS. */
  async set(channel: string, text: string, by: string): Promise<void> {
    await this.redis.hset(this.key, channel, JSON.stringify({ text, by } satisfies ChannelInstructionsEntry));
  }

  /** Removes them; false when there were none. */
  async clear(channel: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, channel)) > 0;
  }
}
