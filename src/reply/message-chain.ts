/**
 * The layout of one answer across Slack messages: the live (last) message is
 * edited, and text longer than one message continues in the next without
 * breaking a code block. Slack's surprises are absorbed here: a message a
 * person deleted is posted anew, a "too long" makes every later message
 * smaller, a gone conversation stops every write (ConversationGone).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import type { EditPacing } from './edit-pacer.ts';
import { METADATA } from '../conversation/build-messages.ts';
import { takePiece } from '../conversation/split-message.ts';
import { inertMarkdown } from '../inert-text.ts';
import { MARKDOWN_BLOCK_LIMIT, type MessageControls, markdownMessage, requestMetadata, shownKey } from './message-builders.ts';
import { AnswerAbandoned, ConversationGone } from './reply.ts';
import { CONVERSATION_GONE, slackFailure, withRateLimitWait } from './web-client.ts';

const STREAMING_CURSOR = ' …';
/** Room kept free in each message for the cursor. */
const HEADROOM = 8;
const MAX_FINAL_TRIES = 6;
/** Below this many characters a message is not made smaller any more. */
const SMALLEST_LIMIT = 500;

export interface Fence {
  marker: string;
  lang: string;
}

/** Characters of the answer one message carries at most (room kept for the cursor): a native stream lays the answer out alike. */
export function pieceLimit(maxChars: number): number {
  return maxChars - HEADROOM;
}

export interface ChainOptions {
  channel: string;
  threadTs: string;
  requestId: string;
  maxChars: number;
  logger: Logger;
  /** Counts edits sent regardless of pacing (see countEveryEdit). */
  pacing: EditPacing;
  /** Messages already posted for this request by an earlier attempt. */
  existingTs?: string[];
  /** What the live message showed when an earlier attempt last wrote it, if known. */
  existingShown?: string;
  /** `answered`: the message just posted carries the finished answer (nothing more will change for it). */
  onMessagesChanged?: (ts: string[], answered?: boolean) => void;
  /**
   * The answer's first `chars` characters are already shown in earlier messages (a native stream's), which left
   * `carry` open: this chain shows the rest, in its existing message if any, else in a new one.
   */
  continueFrom?: { chars: number; carry?: Fence };
  /** Waits before each post (the channel's fleet-wide post slot). */
  beforePost?: () => Promise<void>;
}

export class MessageChain {
  /** Posted messages, oldest first; the last one is the live one. */
  private readonly ts: string[];
  /** How many characters of the answer are in finished messages. */
  private committedChars = 0;
  private carry: Fence | undefined;
  /** The last message is full; the next text goes into a new message. */
  private startNewMessage = false;
  /** Characters per message; shrinks if Slack says a message is too long. */
  private limit: number;
  /** The fingerprint of what the live message shows; undefined when unknown (then an edit is never skipped). */
  private shownNow: string | undefined;
  private gone: ConversationGone | undefined;
  private abandoned = false;
  private countEdits = false;

  constructor(
    private readonly client: WebClient,
    private readonly opts: ChainOptions,
  ) {
    this.ts = [...(opts.existingTs ?? [])];
    this.limit = pieceLimit(opts.maxChars);
    this.shownNow = opts.existingShown;
    this.committedChars = opts.continueFrom?.chars ?? 0;
    this.carry = opts.continueFrom?.carry;
  }

  get shown(): string | undefined {
    return this.shownNow;
  }

  get messageTs(): string[] {
    return [...this.ts];
  }

  get hasMessages(): boolean {
    return this.ts.length > 0;
  }

  /** No write can succeed any more: the conversation is gone, or another worker owns the answer. */
  get stopped(): boolean {
    return this.gone !== undefined || this.abandoned;
  }

  abandon(): void {
    this.abandoned = true;
  }

  /** From now on every edit is counted in the fleet's budget: final edits are not held back, but they use it too. */
  countEveryEdit(): void {
    this.countEdits = true;
  }

  reportMessages(answered = false): void {
    this.opts.onMessagesChanged?.(this.messageTs, answered);
  }

  private async post(markdown: string, type: string, cancelValue?: MessageControls, liveUsers?: readonly string[]): Promise<string> {
    await this.opts.beforePost?.();
    const res = await this.call(() =>
      this.client.chat.postMessage({
        channel: this.opts.channel,
        thread_ts: this.opts.threadTs,
        ...markdownMessage(markdown, cancelValue, liveUsers),
        metadata: requestMetadata(type, this.opts.requestId),
        unfurl_links: false,
        unfurl_media: false,
      } as Parameters<WebClient['chat']['postMessage']>[0]),
    );
    return res.ts as string;
  }

  private async edit(ts: string, markdown: string, type: string, cancelValue?: MessageControls, liveUsers?: readonly string[]): Promise<void> {
    if (this.countEdits) this.opts.pacing.spend();
    await this.call(() =>
      this.client.chat.update({
        channel: this.opts.channel,
        ts,
        ...markdownMessage(markdown, cancelValue, liveUsers),
        metadata: requestMetadata(type, this.opts.requestId),
      } as Parameters<WebClient['chat']['update']>[0]),
    );
  }

  private async delete(ts: string): Promise<void> {
    await this.call(() => this.client.chat.delete({ channel: this.opts.channel, ts })).catch((err) => this.logEditFailure(err));
  }

  /** Runs a Slack call; a gone conversation becomes ConversationGone, everything else is rethrown. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.abandoned) throw new AnswerAbandoned();
    if (this.gone) throw this.gone;
    try {
      return await fn();
    } catch (err) {
      const f = slackFailure(err);
      if (f && CONVERSATION_GONE.has(f.error)) {
        this.gone = new ConversationGone(f.error);
        throw this.gone;
      }
      throw err;
    }
  }

  /** Posts the first message (the placeholder). */
  async open(markdown: string, type: string, cancelValue?: MessageControls): Promise<void> {
    this.ts.push(await this.post(markdown, type, cancelValue));
    this.shownNow = shownKey(markdown, type, cancelValue);
  }

  /**
   * Keeps only the first message, deleting the rest: an earlier attempt may
   * have died mid-answer, and the answer restarts visibly in its first message.
   * Returns whether any were removed.
   */
  async keepFirstOnly(): Promise<boolean> {
    const extras = this.ts.splice(1);
    if (extras.length > 0) this.shownNow = undefined; // the first message is live again: what it shows is not known
    for (const extra of extras) await this.delete(extra);
    return extras.length > 0;
  }

  /** Brings Slack up to `text` (not empty): finishes full messages, then writes the live one (with a cursor unless `final`). */
  async render(text: string, final: boolean, controls: { streaming?: MessageControls; final?: MessageControls } = {}): Promise<void> {
    for (;;) {
      const taken = takePiece(text.slice(this.committedChars), this.limit, this.carry);
      const isLast = taken.rest.length === 0;
      const shown = isLast && !final ? `${taken.piece.text}${STREAMING_CURSOR}` : taken.piece.text;
      const type = isLast && !final ? METADATA.pending : METADATA.answer;
      // Made inert, text can grow (a word joiner per would-be token): keep each message within Slack's limit.
      if (inertMarkdown(shown).length > MARKDOWN_BLOCK_LIMIT && this.limit > SMALLEST_LIMIT) {
        this.limit = Math.floor(this.limit * 0.6);
        continue;
      }
      try {
        await this.write(shown, type, isLast ? (final ? controls.final : controls.streaming) : undefined);
      } catch (err) {
        // Slack's size limits are not all documented: if it says too long, use smaller messages from here on.
        if (slackFailure(err)?.error === 'msg_too_long' && this.limit > SMALLEST_LIMIT) {
          this.limit = Math.floor(this.limit * 0.6);
          this.opts.logger.warn({ limit: this.limit }, 'Slack said the message is too long; using smaller messages');
          continue;
        }
        throw err;
      }
      if (isLast) return;
      // This message is full and final: the answer continues in a new one.
      this.committedChars += taken.piece.body.length;
      this.carry = taken.carry;
      this.startNewMessage = true;
    }
  }

  /** Puts `markdown` in the live message (or a new one), re-posting if someone deleted the live one. */
  async write(markdown: string, type: string, cancelValue?: MessageControls, liveUsers?: readonly string[]): Promise<void> {
    const key = shownKey(markdown, type, cancelValue);
    if (this.startNewMessage || this.ts.length === 0) {
      this.shownNow = undefined;
      this.ts.push(await this.post(markdown, type, cancelValue, liveUsers));
      this.shownNow = key;
      this.startNewMessage = false;
      this.reportMessages(type === METADATA.answer);
      return;
    }
    // Unknown until Slack answers: an edit that failed on the way may still have landed.
    this.shownNow = undefined;
    try {
      await this.edit(this.ts[this.ts.length - 1] as string, markdown, type, cancelValue, liveUsers);
    } catch (err) {
      if (slackFailure(err)?.error !== 'message_not_found') throw err;
      // The placeholder was deleted in Slack: carry on in a new message.
      this.ts.pop();
      this.ts.push(await this.post(markdown, type, cancelValue, liveUsers));
      this.reportMessages(type === METADATA.answer);
    }
    this.shownNow = key;
  }

  /** Posts a notice in the thread; it is not one of the answer's messages. */
  async postNotice(markdown: string, liveUsers?: readonly string[]): Promise<void> {
    await this.post(markdown, METADATA.notice, undefined, liveUsers);
  }

  /**
   * Turns the placeholder into `message`. If Slack refuses the edit, the
   * message is posted anew and the placeholder removed: a placeholder must
   * never be left behind.
   */
  async replaceWith(message: string, liveUsers?: readonly string[]): Promise<void> {
    try {
      await this.retryRateLimited(() => this.write(message, METADATA.notice, undefined, liveUsers));
    } catch (err) {
      if (this.stopped) throw err;
      this.logEditFailure(err);
      const placeholder = this.ts.pop();
      await this.retryRateLimited(() => this.postNotice(message, liveUsers));
      if (placeholder) await this.delete(placeholder);
    }
  }

  /** Runs a write that must land (a final one), waiting out Slack's Retry-After a few times. */
  retryRateLimited<T>(fn: () => Promise<T>): Promise<T> {
    return withRateLimitWait(fn, { tries: MAX_FINAL_TRIES, stop: () => this.stopped });
  }

  logEditFailure(err: unknown): void {
    this.opts.logger.warn({ slackError: slackFailure(err)?.error ?? String(err) }, 'a streaming edit failed; continuing');
  }
}
