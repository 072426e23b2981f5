/**
 * A person's request to stop a question: the Cancel button on a waiting note,
 * the Stop button on an answer being written, or Slack's own stop. It is
 * visible to every process two ways: a flag in Redis that the worker checks
 * whenever the request wakes (so a stop that comes before the answer starts
 * is never missed), and a message on a pub/sub channel that the worker
 * running the answer hears at once and aborts the gateway request on
 * (running-answers.ts).
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

const KEEP_SECONDS = 24 * 3600;

export class Cancellations {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private key(jobId: string) {
    return redisKeys(this.keyPrefix).cancelled(jobId);
  }

  /** The flag first, then the message: a worker that starts after the flag sees it, one already running hears the message. */
  async cancel(jobId: string, by: string): Promise<void> {
    await this.redis.set(this.key(jobId), by, 'EX', KEEP_SECONDS);
    await this.redis.publish(redisKeys(this.keyPrefix).stopChannel, JSON.stringify({ jobId, by } satisfies StopMessage));
  }

  /** Remembers which request posted these messages (Slack's own stop names messages). */
  async rememberMessages(channel: string, messageTs: readonly string[], jobId: string): Promise<void> {
    await Promise.all(messageTs.map((ts) => this.redis.set(redisKeys(this.keyPrefix).answerMessage(channel, ts), jobId, 'EX', KEEP_SECONDS)));
  }

  /** The request a message of the bot's belongs to, if it is an answer's. */
  async requestOfMessage(channel: string, ts: string): Promise<string | undefined> {
    return (await this.redis.get(redisKeys(this.keyPrefix).answerMessage(channel, ts))) ?? undefined;
  }

  /** Who cancelled the request, if anyone did. */
  async cancelledBy(jobId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(jobId))) ?? undefined;
  }
}

/** What the stop channel carries. */
export interface StopMessage {
  jobId: string;
  by: string;
}

/** What the listener knows of a request that is still queued or running. */
export interface CancellableRequest {
  /** Who asked. */
  user: string;
  channel: string;
  /** The bot's messages for this request (the one carrying Cancel among them). */
  messageTs: string[];
}

export type CancelDecision = 'cancel' | 'not_this_message' | 'not_allowed';

/**
 * Whether a Cancel click may stop a request. The button names its request,
 * but the payload is the clicker's word: the click counts only on a message
 * the bot posted for that very request, in its channel, so a Cancel can never
 * be pointed at someone else's answer. It may come from the person who asked
 * or from one of the bot's administrators (who can already pause everyone's
 * questions, and are named in the note as who cancelled); nobody else can
 * stop a question that is not theirs.
 */
export function decideCancel(request: CancellableRequest, click: { user: string; channel?: string; messageTs?: string }, admins: string[]): CancelDecision {
  if (!click.channel || !click.messageTs || click.channel !== request.channel || !request.messageTs.includes(click.messageTs)) return 'not_this_message';
  if (click.user !== request.user && !admins.includes(click.user)) return 'not_allowed';
  return 'cancel';
}
