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
 * The same shares pace the other Slack methods an answer may use, each
 * within its own tier (tiers count per method and workspace): native
 * streams' `chat.startStream` + `chat.stopStream` (Tier 2, reserved together
 * when an answer starts streaming) and `chat.appendStream` (Tier 4). How many
 * answers hold an edited message is shared too: past what the edit budget
 * can finish promptly, new answers post no placeholder (see streamed-reply.ts).
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

// KEYS[1] = hash of worker -> "count:ms:edited"; ARGV = worker, count, stale after ms, edited.
// Returns the other workers' totals {answers streaming, answers holding an edited message}.
const PUBLISH_AND_SUM = `
${REDIS_NOW_MS}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. now .. ':' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
local others, othersEdited = 0, 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local worker, f = entries[i], {}
  for part in string.gmatch(entries[i + 1], '[^:]+') do f[#f + 1] = tonumber(part) end
  if now - f[2] > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], worker)
  elseif worker ~= ARGV[1] then
    others = others + f[1]
    othersEdited = othersEdited + (f[3] or 0)
  end
end
return {others, othersEdited}
`;

/** A stretch of time, in seconds, within which answers holding an edited message should all be able to get their final edit. */
const FINISH_WITHIN_MINUTES = 0.25;

/**
 * A token bucket refilled at this worker's share of a fleet-wide rate. Up to
 * two seconds of the share may be saved up for a burst, and at least
 * `minTokens` (what one use needs at once: a native stream reserves its start and its stop).
 */
class ShareBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perMinute: number,
    private readonly share: () => number,
    private readonly clock: Clock,
    private readonly minTokens = 1,
  ) {
    this.tokens = minTokens;
    this.refilledAt = clock.now();
  }

  /** Calls a millisecond this worker may make. */
  rate(): number {
    return (this.perMinute / 60_000) * this.share();
  }

  private refill(): void {
    const now = this.clock.now();
    const rate = this.rate();
    const capacity = Math.max(this.minTokens, rate * 2000);
    this.tokens = Math.min(capacity, this.tokens + (now - this.refilledAt) * rate);
    this.refilledAt = now;
  }

  /** Takes `n` calls: 0 when taken, else how long to wait before asking again. */
  take(n = 1): number {
    if (this.perMinute <= 0) return 0;
    this.refill();
    if (this.tokens >= n) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil((n - this.tokens) / this.rate());
  }

  /** Counts a call that is made regardless. */
  spend(): void {
    if (this.perMinute <= 0) return;
    this.refill();
    this.tokens -= 1;
  }
}

export interface EditPacerOptions {
  /** Edits a minute the whole fleet may make (0: no fleet budget, only the minimum interval). */
  editsPerMinute: number;
  /** The shortest interval between two edits of one message. */
  minIntervalMs: number;
  /** How often this worker publishes its count and reads the fleet's. */
  syncMs?: number;
  /** chat.startStream + chat.stopStream calls a minute the whole fleet may make (Tier 2; 0: none). */
  streamCallsPerMinute?: number;
  /** chat.appendStream calls a minute the whole fleet may make (Tier 4). */
  appendsPerMinute?: number;
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
  /** Answers holding an edited message (a placeholder whose final edit is still to come), here and elsewhere. */
  private edited = 0;
  private othersEdited = 0;
  /** Answers streaming natively in this worker (their appends share the append budget). */
  private native = 0;
  /** The count this worker last published (its entry expires on its own once it stops publishing). */
  private published = 0;
  private readonly edits: ShareBucket;
  private readonly streamCalls: ShareBucket;
  private readonly appends: ShareBucket;
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
    const share = () => this.share();
    this.edits = new ShareBucket(opts.editsPerMinute, share, clock);
    this.streamCalls = new ShareBucket(opts.streamCallsPerMinute ?? 0, share, clock, 2);
    this.appends = new ShareBucket(opts.appendsPerMinute ?? 0, share, clock);
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

  /** This worker's share of the fleet's budgets. */
  private share(): number {
    return this.streaming > 0 ? this.streaming / (this.streaming + this.othersStreaming) : 1;
  }

  /** Takes one streaming edit from the budget: 0 when taken, else how long to wait before asking again. */
  take(): number {
    return this.edits.take();
  }

  /** Counts an edit that is sent regardless (a final one). */
  spend(): void {
    this.edits.spend();
  }

  /**
   * Reserves a native stream's start and stop (Tier 2) when the budget has
   * room for both; false when it has not (the answer is edited instead).
   */
  reserveStream(): boolean {
    return (this.opts.streamCallsPerMinute ?? 0) > 0 && this.streamCalls.take(2) === 0;
  }

  /**
   * Whether one more answer may hold an edited message: every such answer
   * needs at least its final edit, and they may all finish at once, so at
   * most what the edit budget allows in FINISH_WITHIN_MINUTES hold one fleet-wide.
   */
  editRoom(): boolean {
    if (this.opts.editsPerMinute <= 0) return true;
    return this.edited + this.othersEdited < Math.max(1, Math.floor(this.opts.editsPerMinute * FINISH_WITHIN_MINUTES));
  }

  /** Counts an answer as holding an edited message until the returned function is called. */
  holdEdited(): () => void {
    return this.hold(() => this.edited++, () => this.edited--);
  }

  /** Counts an answer as streaming natively until the returned function is called. */
  holdNative(): () => void {
    return this.hold(() => this.native++, () => this.native--);
  }

  private hold(up: () => void, down: () => void): () => void {
    up();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      down();
    };
  }

  /** The pacing of one native stream's appends (Tier 4), shared as edits are but among native streams. */
  forStream(minIntervalMs: number): EditPacing {
    const phase = Math.random();
    const interval = (fraction: number) => {
      const rate = this.appends.rate();
      const shared = rate > 0 ? (Math.max(1, this.native) * fraction) / rate : 0;
      return Math.max(minIntervalMs, Math.ceil(shared));
    };
    return {
      intervalMs: (first) => interval(first ? phase : 1),
      take: () => this.appends.take(),
      spend: () => this.appends.spend(),
    };
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
    return this.hold(() => this.streaming++, () => this.streaming--);
  }

  /** Publishes this worker's count and reads the rest of the fleet's. */
  async sync(): Promise<void> {
    const stale = this.syncMs * 3;
    const streaming = this.streaming;
    const [others, othersEdited] = (await this.redis.eval(PUBLISH_AND_SUM, 1, this.key, this.worker, String(streaming), String(stale), String(this.edited))) as [number, number];
    this.othersStreaming = Number(others);
    this.othersEdited = Number(othersEdited);
    this.published = streaming + this.edited;
  }

  start(): void {
    if (this.opts.editsPerMinute <= 0 || this.stopTimer) return;
    this.stopTimer = this.clock.every(this.syncMs, () => {
      // An idle worker that has said so has nothing to share, and needs nobody's count: no Redis call.
      if (this.streaming === 0 && this.edited === 0 && this.published === 0) return;
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
