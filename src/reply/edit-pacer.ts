/**
 * How often a streaming answer may edit its message. `chat.update` is a
 * Tier 3 method: Slack allows some 50+ calls a minute per workspace, shared
 * by every worker of the app. One answer editing once a second fits; a
 * hundred at once would be 6,000 a minute, and Slack would answer most of
 * them with 429s (each of which also delays the final edits). So the fleet's
 * budget of edits is shared out over the answers streaming right now:
 *
 * - spreading: each message edits every max(minimum, streaming × 60 s ÷
 *   budget), its first edit at a random point of that interval, so answers
 *   that start together do not all edit together;
 * - the cap: each worker spends at most its share of the budget (its
 *   streaming answers ÷ the fleet's), from a token bucket; an edit that finds
 *   none waits. Final edits are never held back, but they count.
 *
 * Each worker publishes how many answers it is streaming, and reads the
 * fleet's total back, in one Redis round trip every `syncMs` while it has
 * answers streaming (not one per edit; none while idle). Counts older than a few periods (a worker that died) are dropped,
 * judged by Redis's clock so machines' clocks need not agree.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.ts';
import { REDIS_NOW_MS } from '../redis-clock.ts';
import type { Logger } from '../logger.ts';

// KEYS[1] = hash of worker -> "count:ms"; ARGV = worker, count, stale after ms. Returns the other workers' total.
const PUBLISH_AND_SUM = `
${REDIS_NOW_MS}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
local others = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local worker, value = entries[i], entries[i + 1]
  local sep = string.find(value, ':', 1, true)
  local count, at = tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
  if now - at > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], worker)
  elseif worker ~= ARGV[1] then
    others = others + count
  end
end
return others
`;

export interface EditPacerOptions {
  /** Edits a minute the whole fleet may make (0: no fleet budget, only the minimum interval). */
  editsPerMinute: number;
  /** The shortest interval between two edits of one message. */
  minIntervalMs: number;
  /** How often this worker publishes its count and reads the fleet's. */
  syncMs?: number;
}

/** What one answer's message asks before its edits (see edit-pump.ts). */
export interface EditPacing {
  /** The wait from the message's last edit to its next (`first`: its first streaming edit). */
  intervalMs(first: boolean): number;
  /** Takes a streaming edit from the fleet's budget: 0 when taken, else how long to wait before asking again. */
  take(): number;
  /** Counts a final edit, which is sent regardless. */
  spend(): void;
}

export class EditPacer {
  private readonly worker = randomUUID();
  private readonly key: string;
  private readonly syncMs: number;
  private streaming = 0;
  private othersStreaming = 0;
  /** The count this worker last published (its entry expires on its own once it stops publishing). */
  private published = 0;
  private tokens = 1;
  private refilledAt: number;
  private stopTimer: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly opts: EditPacerOptions,
    private readonly logger: Logger,
    /** Paces the edits and times the syncs (not the fleet's staleness, which Redis's clock judges). */
    private readonly clock: Clock = realClock,
  ) {
    this.key = `${keyPrefix}:slack:streaming`;
    this.syncMs = opts.syncMs ?? 2000;
    this.refilledAt = clock.now();
  }

  /**
   * The time from one edit of a streaming message to its next, as of now.
   * A message's first edit waits only `fraction` (a random 0..1 of its own)
   * of it: answers that start together then spread their edits over the
   * budget, and when the shared interval is longer than the answers take,
   * some of them still show progress instead of none.
   */
  intervalMs(fraction = 1): number {
    const fleet = this.streaming + this.othersStreaming;
    const shared = this.opts.editsPerMinute > 0 ? (fleet * 60_000) / this.opts.editsPerMinute : 0;
    return Math.max(this.opts.minIntervalMs, Math.ceil(shared * fraction));
  }

  /** This worker's share of the fleet's budget, in edits a millisecond. */
  private rate(): number {
    const share = this.streaming > 0 ? this.streaming / (this.streaming + this.othersStreaming) : 1;
    return (this.opts.editsPerMinute / 60_000) * share;
  }

  private refill(): void {
    const now = this.clock.now();
    const rate = this.rate();
    // Up to two seconds of this worker's share (at least one edit) may be saved up for a burst.
    const capacity = Math.max(1, rate * 2000);
    this.tokens = Math.min(capacity, this.tokens + (now - this.refilledAt) * rate);
    this.refilledAt = now;
  }

  /** Takes one streaming edit from the budget: 0 when taken, else how long to wait before asking again. */
  take(): number {
    if (this.opts.editsPerMinute <= 0) return 0;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.rate());
  }

  /** Counts an edit that is sent regardless (a final one). */
  spend(): void {
    if (this.opts.editsPerMinute <= 0) return;
    this.refill();
    this.tokens -= 1;
  }

  /** The pacing of one answer's message, with its own random first-edit point. */
  forAnswer(): EditPacing {
    const phase = Math.random();
    return {
      intervalMs: (first) => this.intervalMs(first ? phase : 1),
      take: () => this.take(),
      spend: () => this.spend(),
    };
  }

  /** Counts an answer as streaming until the returned function is called. */
  track(): () => void {
    this.streaming++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.streaming--;
    };
  }

  /** Publishes this worker's count and reads the rest of the fleet's. */
  async sync(): Promise<void> {
    const stale = this.syncMs * 3;
    const streaming = this.streaming;
    this.othersStreaming = Number(await this.redis.eval(PUBLISH_AND_SUM, 1, this.key, this.worker, String(streaming), String(stale)));
    this.published = streaming;
  }

  start(): void {
    if (this.opts.editsPerMinute <= 0 || this.stopTimer) return;
    this.stopTimer = this.clock.every(this.syncMs, () => {
      // An idle worker that has said so has nothing to share, and needs nobody's count: no Redis call.
      if (this.streaming === 0 && this.published === 0) return;
      this.sync().catch((err: unknown) => this.logger.debug({ err }, 'could not share the streaming count; pacing on what is known'));
    });
  }

  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    // Leave the fleet's count at once rather than after the stale period.
    await this.redis.hdel(this.key, this.worker).catch(() => undefined);
  }
}
