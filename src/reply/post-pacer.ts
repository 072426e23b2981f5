/**
 * Slack takes about one message a second per channel (chat.postMessage is
 * "special": ~1/s per channel, shared by every worker). When many answers in
 * one channel are posted whole at once (degraded answers, see
 * streamed-reply.ts), each takes the channel's next free slot from Redis and
 * waits for it, so none of them is answered with a 429.
 */
import type { Redis } from 'ioredis';
import { REDIS_NOW_MS } from '../redis-clock.ts';
import { redisKeys } from '../redis-keys.ts';

// KEYS[1] = the channel's next free slot (Redis ms); ARGV[1] = spacing ms. Returns how long to wait for the slot taken.
const TAKE_SLOT = `
${REDIS_NOW_MS}
local spacing = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + spacing, 'PX', slot + spacing - now + 1000)
return slot - now
`;

export class ChannelPostPacer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** The least time between two posts in one channel, fleet-wide. */
    private readonly spacingMs = 1100,
  ) {}

  /** Waits for the channel's next free slot (at once when the channel is quiet); Redis trouble does not hold the post back. */
  async beforePost(channel: string): Promise<void> {
    const wait = await this.takeSlot(channel).catch(() => 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Takes the channel's next free slot: how long until it comes. */
  async takeSlot(channel: string): Promise<number> {
    return Number(await this.redis.eval(TAKE_SLOT, 1, redisKeys(this.prefix).slackPostSlot(channel), String(this.spacingMs)));
  }
}
