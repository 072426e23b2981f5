/**
 * Slack takes about one message a second per channel (chat.postMessage is
 * "special": ~1/s per channel, shared by every worker). When many answers in
 * one channel are posted whole at once (degraded answers, see
 * streamed-reply.ts), each takes the channel's next free slot from Redis and
 * waits for it, so none of them is answered with a 429.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

// The channel's key lives until its next free slot: absent, the channel is quiet. KEYS[1] = that key; ARGV[1] =
// spacing ms. Takes the slot after the one pending and returns how long until it comes (Redis's own clock, by TTL).
const TAKE_NEXT_SLOT = `
local spacing = tonumber(ARGV[1])
local wait = redis.call('PTTL', KEYS[1])
if wait < 0 then
  redis.call('SET', KEYS[1], 1, 'PX', spacing)
  return 0
end
redis.call('PEXPIRE', KEYS[1], wait + spacing)
return wait
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
    const key = redisKeys(this.prefix).slackPostSlot(channel);
    // A quiet channel (the usual case) takes its slot in one command.
    if ((await this.redis.set(key, 1, 'PX', this.spacingMs, 'NX')) === 'OK') return 0;
    return Number(await this.redis.eval(TAKE_NEXT_SLOT, 1, key, String(this.spacingMs)));
  }
}
