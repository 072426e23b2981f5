/**
 * The Reply that picks, per answer, how to show it within Slack's limits for
 * the whole workspace (SLACK_STREAMING):
 *
 * - native: Slack's own streaming message, when the fleet's Tier-2 budget has
 *   room for the stream's start and its stop (decided at the first text; in
 *   `native` mode always tried). The placeholder that carried the status is
 *   removed once the stream shows text.
 * - edited: today's edited message (edited-message.ts), when it has not.
 * - degraded (`auto` only): when more answers hold an edited message than
 *   the edit budget can finish promptly, a new answer posts no placeholder
 *   and no edits; it streams if the Tier-2 budget has room by its first
 *   text, else the whole answer is posted once when done (in the channel's
 *   next post slot, post-pacer.ts). Never silent, never a 429.
 *
 * A stream that ends early hands over to an edited continuation of the same
 * layout (native-stream.ts), so the answer is shown exactly once.
 */
import type { WebClient } from '@slack/web-api';
import { type Clock, realClock } from '../clock.ts';
import type { EditPacer } from './edit-pacer.ts';
import { EditedMessageReply, type EditedMessageOptions, editedMessageReplies } from './edited-message.ts';
import type { FinishedControls } from './message-builders.ts';
import { NativeStream } from './native-stream.ts';
import type { ChannelPostPacer } from './post-pacer.ts';
import type { Reply, ReplyFactory, ReplyTarget } from './reply.ts';
import { slackFailure } from './web-client.ts';

/** A degraded answer asks again for a stream this often while its text comes. */
const RETRY_STREAM_MS = 1000;

export type StreamingMode = 'auto' | 'native' | 'edit';

export interface StreamedRepliesOptions {
  mode: StreamingMode;
  maxChars: number;
  /** The shortest time between two appends of one stream. */
  appendIntervalMs: number;
  /** Spaces posts per channel fleet-wide (degraded answers are posted whole, many at once). */
  posts?: ChannelPostPacer;
  /** Times a degraded answer's new asks for a stream. */
  clock?: Clock;
  /** For chat.startStream/appendStream/stopStream: a client that never retries by itself (an append is not idempotent). */
  streamClient?: WebClient;
}

/** The worker's ReplyFactory: `edit` is today's edited message; `auto` and `native` choose per answer. */
export function streamedReplies(slack: WebClient, pacer: EditPacer, opts: StreamedRepliesOptions): ReplyFactory {
  if (opts.mode === 'edit') return editedMessageReplies(slack, pacer, opts.maxChars);
  return (target) => new StreamedReply(slack, pacer, target, opts);
}

export class StreamedReply implements Reply {
  /** The placeholder (status, waiting note, Cancel); also what the answer falls back to when it does not stream. */
  private readonly placeholder: EditedMessageReply;
  /** No placeholder and no edits: the answer is posted whole when done (or streamed if room comes by its first text). */
  private quiet = false;
  private decided = false;
  /** When this answer last asked the Tier-2 budget for a stream. */
  private askedAt = 0;
  private stream: NativeStream | undefined;
  /** Edits carrying on where an ended stream stopped. */
  private continuation: EditedMessageReply | undefined;
  private releaseEdited: (() => void) | undefined;
  private releaseNative: (() => void) | undefined;
  private text = '';

  constructor(
    private readonly client: WebClient,
    private readonly pacer: EditPacer,
    private readonly target: ReplyTarget,
    private readonly opts: StreamedRepliesOptions,
  ) {
    this.placeholder = this.edited({ existingTs: target.resume?.messageTs, existingShown: target.resume?.shown });
  }

  private now(): number {
    return (this.opts.clock ?? realClock).now();
  }

  private edited(extra: Partial<EditedMessageOptions>): EditedMessageReply {
    const t = this.target;
    return new EditedMessageReply(this.client, {
      channel: t.channel,
      threadTs: t.threadTs,
      requestId: t.requestId,
      pacing: this.pacer.forAnswer(),
      maxChars: this.opts.maxChars,
      logger: t.logger,
      onMessagesChanged: (_ts, answered) => this.report(answered),
      ...(this.opts.posts ? { beforePost: () => (this.opts.posts as ChannelPostPacer).beforePost(t.channel) } : {}),
      ...extra,
    });
  }

  /** What answers the calls now: the continuation, else the placeholder's message. */
  private get live(): EditedMessageReply {
    return this.continuation ?? this.placeholder;
  }

  get messageTs(): string[] {
    if (!this.stream?.started) return this.placeholder.messageTs;
    const handed = this.stream.handover?.ts;
    return [...this.stream.ts.filter((ts) => ts !== handed), ...(this.continuation?.messageTs ?? [])];
  }

  get shown(): string | undefined {
    return this.stream?.started ? undefined : this.placeholder.shown;
  }

  private report(answered = false): void {
    this.target.onMessagesChanged?.(this.messageTs, answered);
  }

  abandon(): void {
    this.placeholder.abandon();
    this.stream?.abandon();
    this.continuation?.abandon();
    this.release();
  }

  private release(): void {
    this.releaseEdited?.();
    this.releaseNative?.();
  }

  async begin(status: string, cancelValue?: string, waiting = false): Promise<void> {
    const resumed = (this.target.resume?.messageTs.length ?? 0) > 0;
    if (this.opts.mode === 'auto' && !waiting && !resumed && !this.pacer.editRoom()) {
      this.quiet = true;
      this.target.logger.debug('more answers hold an edited message than the edit budget finishes promptly: no placeholder');
      return;
    }
    this.releaseEdited = this.pacer.holdEdited();
    await this.placeholder.begin(status, cancelValue, waiting);
  }

  async showWaiting(status: string, cancelValue?: string): Promise<boolean> {
    return this.quiet ? true : this.placeholder.showWaiting(status, cancelValue);
  }

  setStatus(status: string, cancelValue?: string): void {
    if (!this.quiet && !this.stream && !this.continuation) this.placeholder.setStatus(status, cancelValue);
  }

  update(text: string): void {
    this.text = text;
    if (!this.decided && text.trim().length > 0) {
      this.decided = true;
      this.askedAt = this.now();
      // Counted in native mode too, so the fleet's other answers see the budget as it is.
      const room = this.pacer.reserveStream();
      if (room || this.opts.mode === 'native') this.openStream();
    } else if (this.quiet && !this.stream && text.trim().length > 0 && this.now() - this.askedAt >= RETRY_STREAM_MS) {
      // A degraded answer shows nothing yet: it streams as soon as the Tier-2 budget has room again.
      this.askedAt = this.now();
      if (this.pacer.reserveStream()) this.openStream();
    }
    this.takeOverIfEnded();
    if (this.continuation) this.continuation.update(text);
    else if (this.stream) this.stream.update(text);
    else if (!this.quiet) this.placeholder.update(text);
  }

  async flush(): Promise<void> {
    if (this.stream && !this.continuation) await this.stream.flush();
    this.takeOverIfEnded();
    if (this.continuation) await this.continuation.flush();
    else if (!this.stream && !this.quiet) await this.placeholder.flush();
  }

  async finish(text: string, controls?: FinishedControls): Promise<void> {
    this.text = text;
    try {
      if (this.stream && !this.continuation) await this.stream.finish(text, controls);
      this.takeOverIfEnded();
      if (this.continuation) await this.continuation.finish(text, controls);
      else if (!this.stream) await this.placeholder.finish(text, controls);
    } finally {
      this.release();
    }
  }

  async fail(message: string, liveUsers?: readonly string[]): Promise<void> {
    try {
      if (this.stream && !this.continuation) {
        // The partial text stays, its stream stopped; the message follows it.
        await this.stream.finish(this.text);
        this.takeOverIfEnded();
        // Refused before it showed anything, the stream is gone and the placeholder takes the failure below.
        if (this.stream?.started && !this.continuation) return await this.edited({}).fail(message, liveUsers);
      }
      // A degraded answer's partial text is posted (marked final) before the message, as an edited one keeps it.
      if (this.quiet && !this.stream && this.text.trim().length > 0) {
        await this.placeholder.finish(this.text);
        return await this.edited({}).fail(message, liveUsers);
      }
      await this.live.fail(message, liveUsers);
    } finally {
      this.release();
    }
  }

  async note(message: string): Promise<void> {
    await (this.stream?.started ? this.edited({}) : this.live).note(message);
  }

  private openStream(): void {
    const t = this.target;
    this.releaseNative = this.pacer.holdNative();
    this.stream = new NativeStream(this.opts.streamClient ?? this.client, {
      channel: t.channel,
      threadTs: t.threadTs,
      requestId: t.requestId,
      asker: t.asker,
      maxChars: this.opts.maxChars,
      logger: t.logger,
      pacing: this.pacer.forStream(this.opts.appendIntervalMs),
      reserveStream: () => this.pacer.reserveStream(),
      onStarted: () => void this.dropPlaceholder(),
      ...(t.onStoppedInSlack ? { onStoppedInSlack: t.onStoppedInSlack } : {}),
    });
  }

  /** The stream shows the answer now: the placeholder goes (its edits stop first). */
  private async dropPlaceholder(): Promise<void> {
    const placeholders = this.placeholder.messageTs;
    this.placeholder.abandon();
    this.releaseEdited?.();
    this.report();
    for (const ts of placeholders) {
      await this.client.chat
        .delete({ channel: this.target.channel, ts })
        .catch((err: unknown) => this.target.logger.warn({ slackError: slackFailure(err)?.error ?? String(err) }, 'could not remove the placeholder'));
    }
  }

  /** A stream that ended early: before it showed anything the placeholder carries on, after it an edited continuation does. */
  private takeOverIfEnded(): void {
    const h = this.stream?.handover;
    if (!h || this.continuation) return;
    this.releaseNative?.();
    if (!this.stream?.started) {
      this.stream = undefined;
      if (!this.quiet) this.placeholder.update(this.text);
      return;
    }
    this.continuation = this.edited({ existingTs: h.ts ? [h.ts] : [], continueFrom: { chars: h.chars, ...(h.carry ? { carry: h.carry } : {}) } });
    // It shows the text so far at its next edit (the ended stream may lack the end of it).
    this.continuation.update(this.text);
    this.report();
  }
}
