/**
 * Shows one answer in a Slack thread as it streams: a placeholder first (the
 * sign of life), then edits carrying the latest text, never more often than
 * its pacing allows (per message, and within the fleet's budget: see
 * edit-pacer.ts) and never while Slack has asked us to wait.
 * Edits coalesce: only the newest text is ever sent, so an edit that was
 * rate-limited is dropped rather than replayed late. Text longer than one
 * message continues in the next without breaking a code block.
 *
 * Messages carry the answer in a `markdown` block (Slack renders standard
 * Markdown; 12,000 characters at most) with a short plain `text` for
 * notifications, so a waiting note can also carry a Cancel button.
 */
import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import type { EditPacing } from './edit-pacer.ts';
import { METADATA } from '../conversation/build-messages.ts';
import { takePiece } from '../conversation/split-message.ts';
import { inertMarkdown, inertMrkdwn } from '../inert-text.ts';
import { CONVERSATION_GONE, slackFailure, withRateLimitWait } from './web-client.ts';

export class ConversationGone extends Error {
  constructor(readonly slackError: string) {
    super(`cannot post to this conversation: ${slackError}`);
    this.name = 'ConversationGone';
  }
}

const STREAMING_CURSOR = ' …';
/** Slack's cumulative limit for the markdown blocks of one message. */
const MARKDOWN_BLOCK_LIMIT = 12_000;
/** Notification text: Slack shows it in alerts and previews; chat.update allows 4,000 characters. */
const FALLBACK_CHARS = 300;
export const CANCEL_WAIT_ACTION = 'cancel_wait';

/** A short plain preview of markdown, for the notification `text` (mrkdwn: escaped, so nothing in it acts). */
export function fallbackText(markdown: string, liveUsers: readonly string[] = []): string {
  const plain = markdown.replace(/[`*_~#]/g, '').replace(/^\s*>+/gm, '').replace(/\s+/g, ' ').trim();
  const short = plain.length > FALLBACK_CHARS ? `${plain.slice(0, FALLBACK_CHARS - 1)}…` : plain || '…';
  return inertMrkdwn(short, liveUsers);
}

/**
 * A message carrying `markdown` as Slack renders it (a markdown block), with
 * a short plain `text` for notifications, and optionally a Cancel button.
 * Every message the bot posts or edits is built here, so nothing in it acts in
 * Slack (see inert-text.ts) except mentions of `liveUsers`, ids the bot itself
 * names on purpose. Slack is never asked to link names (no `link_names`).
 */
export function markdownMessage(markdown: string, cancelValue?: string, liveUsers: readonly string[] = []): { text: string; blocks: object[] } {
  const inert = inertMarkdown(markdown, liveUsers);
  const blocks: object[] = [{ type: 'markdown', text: inert }];
  if (cancelValue) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: CANCEL_WAIT_ACTION, text: { type: 'plain_text', text: 'Cancel' }, style: 'danger', value: cancelValue },
      ],
    });
  }
  return { text: fallbackText(inert, liveUsers), blocks };
}
/** A short fingerprint of what a message shows, kept with the job so a wake-up knows whether an edit would change anything. */
function shownKey(markdown: string, type: string, cancelValue: string | undefined): string {
  return createHash('sha1').update(JSON.stringify([markdown, type, cancelValue ?? ''])).digest('base64url').slice(0, 16);
}

/** A waiting edit re-reads its interval this often, so it goes sooner when the fleet quietens. */
const RECHECK_INTERVAL_MS = 1000;
/** Room kept free in each message for the cursor. */
const HEADROOM = 8;
const MAX_FINAL_TRIES = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fence {
  marker: string;
  lang: string;
}

export interface AnswerMessageOptions {
  channel: string;
  threadTs: string;
  requestId: string;
  /** How often this message may be edited; asked anew while waiting, as it follows the fleet's load. */
  pacing: EditPacing;
  maxChars: number;
  logger: Logger;
  /** Messages already posted for this request by an earlier attempt. */
  existingTs?: string[];
  /** Called whenever a message is added or removed, so the job can remember them. */
  onMessagesChanged?: (ts: string[]) => void;
  /** What the live message showed when an earlier attempt last wrote it (`shown`), if known. */
  existingShown?: string;
}

/** This process no longer owns the answer (its job lock was lost): it must stop writing. */
export class AnswerAbandoned extends Error {
  constructor() {
    super('the answer was handed to another worker');
    this.name = 'AnswerAbandoned';
  }
}

export class AnswerMessage {
  /** Posted messages, oldest first; the last one is the live one. */
  private readonly ts: string[];
  /** How many characters of the answer are in finished messages. */
  private committedChars = 0;
  private carry: Fence | undefined;
  private status = '';
  /** While waiting (cold start), the placeholder offers a Cancel button carrying this value. */
  private cancelValue: string | undefined;
  private text = '';
  private version = 0;
  private sentVersion = 0;
  /** When the last edit (or the placeholder) went out. */
  private lastEditAt = 0;
  /** Streaming edits sent so far. */
  private edits = 0;
  /** The next edit goes as soon as Slack allows, not at the next edit slot (flush). */
  private sendNow = false;
  private pump: Promise<void> | undefined;
  private gone: ConversationGone | undefined;
  /** The last message is full; the next text goes into a new message. */
  private startNewMessage = false;
  private abandoned = false;
  /** finish() or fail() has begun: no more streaming edits. */
  private closing = false;
  private wake: (() => void) | undefined;
  /** Slack asked us not to call before this time (Retry-After). */
  private rateLimitedUntil = 0;
  /** Characters per message; shrinks if Slack says a message is too long. */
  private limit: number;
  /** The fingerprint of what the live message shows; undefined when unknown (then an edit is never skipped). */
  private shownNow: string | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly opts: AnswerMessageOptions,
  ) {
    this.ts = [...(opts.existingTs ?? [])];
    this.limit = opts.maxChars - HEADROOM;
    this.shownNow = opts.existingShown;
  }

  /** A fingerprint of what the live message shows (kept with the job; see `existingShown`). */
  get shown(): string | undefined {
    return this.shownNow;
  }

  /** Every message posted so far (kept with the job so a retry reuses them). */
  get messageTs(): string[] {
    return [...this.ts];
  }

  private metadata(type: string) {
    return { event_type: type, event_payload: { request_id: this.opts.requestId } };
  }

  private async post(markdown: string, type: string, cancelValue?: string, liveUsers?: readonly string[]): Promise<string> {
    const res = await this.call(() =>
      this.client.chat.postMessage({
        channel: this.opts.channel,
        thread_ts: this.opts.threadTs,
        ...markdownMessage(markdown, cancelValue, liveUsers),
        metadata: this.metadata(type),
        unfurl_links: false,
        unfurl_media: false,
      } as Parameters<WebClient['chat']['postMessage']>[0]),
    );
    return res.ts as string;
  }

  private async edit(ts: string, markdown: string, type: string, cancelValue?: string, liveUsers?: readonly string[]): Promise<void> {
    if (this.closing) this.opts.pacing.spend(); // final edits are not held back, but they use the budget too
    await this.call(() =>
      this.client.chat.update({
        channel: this.opts.channel,
        ts,
        ...markdownMessage(markdown, cancelValue, liveUsers),
        metadata: this.metadata(type),
      } as Parameters<WebClient['chat']['update']>[0]),
    );
  }

  /** Stops every further write (another worker now owns this answer). */
  abandon(): void {
    this.abandoned = true;
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

  /**
   * Posts the placeholder (unless an earlier attempt did) with a status line.
   * `waiting`: the message holds this request's earlier waiting note (it was
   * parked), so it is brought up to date as showWaiting does, within the edit
   * budget, and not edited at all if it already shows `status`; otherwise it
   * is edited at once (an earlier attempt may have left partial text).
   */
  async begin(status: string, cancelValue?: string, waiting = false): Promise<void> {
    // An earlier attempt may have died mid-answer: restart visibly in its first message, removing the rest.
    const extras = this.ts.splice(1);
    if (extras.length > 0) this.shownNow = undefined; // the first message is live again: what it shows is not known
    for (const extra of extras) {
      await this.call(() => this.client.chat.delete({ channel: this.opts.channel, ts: extra })).catch((err) => this.logEditFailure(err));
    }
    if (this.ts.length === 0) {
      this.status = status;
      this.cancelValue = cancelValue;
      this.ts.push(await this.post(status, METADATA.pending, cancelValue));
      this.shownNow = shownKey(status, METADATA.pending, cancelValue);
    } else if (waiting && extras.length === 0) {
      await this.showWaiting(status, cancelValue);
    } else {
      this.status = status;
      this.cancelValue = cancelValue;
      this.opts.pacing.spend(); // sent regardless (it replaces what an earlier attempt left), but counted
      await this.write(status, METADATA.pending, cancelValue).catch((err) => this.logEditFailure(err));
    }
    this.changed();
    this.sentVersion = this.version;
    this.lastEditAt = Date.now();
  }

  /**
   * Shows a waiting note (with a Cancel button when `cancelValue` is set),
   * unless the live message already shows it: a parked question wakes often,
   * and its note seldom changes. The edit takes one from the fleet's edit
   * budget; when none is left, the message keeps its older note for now and
   * false is returned (a parked question tries again when it next wakes).
   */
  async showWaiting(status: string, cancelValue?: string): Promise<boolean> {
    if (this.pump || this.text.length > 0) {
      // Edits are under way: the note goes the way they do.
      this.setStatus(status, cancelValue);
      await this.flush();
      return this.shownNow === shownKey(status, METADATA.pending, cancelValue);
    }
    this.status = status;
    this.cancelValue = cancelValue;
    if (this.ts.length > 0 && this.shownNow === shownKey(status, METADATA.pending, cancelValue)) return true;
    if (this.ts.length > 0 && (this.rateLimitedUntil > Date.now() || this.opts.pacing.take() > 0)) return false;
    try {
      await this.write(status, METADATA.pending, cancelValue);
    } catch (err) {
      if (this.gone || this.abandoned) throw err;
      const f = slackFailure(err);
      if (f?.error === 'ratelimited') this.rateLimitedUntil = Date.now() + (f.retryAfterMs ?? 1000);
      else this.logEditFailure(err);
      return false;
    }
    this.lastEditAt = Date.now();
    return true;
  }

  private changed() {
    this.opts.onMessagesChanged?.(this.messageTs);
  }

  /** A new status line, shown while no answer text has arrived; `cancelValue` adds a Cancel button. */
  setStatus(status: string, cancelValue?: string): void {
    if (status === this.status && cancelValue === this.cancelValue) return;
    this.status = status;
    this.cancelValue = cancelValue;
    this.schedule();
  }

  /** The visible answer so far (whole text, not a delta). */
  update(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.schedule();
  }

  private schedule() {
    this.version++;
    this.pump ??= this.runPump().finally(() => {
      this.pump = undefined;
    });
  }

  /** Sleeps until the next edit may go, unless woken early (the answer is finishing). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** When the next streaming edit may go. */
  private nextEditAt(): number {
    const slot = this.sendNow ? 0 : this.lastEditAt + this.opts.pacing.intervalMs(this.edits === 0);
    return Math.max(slot, this.rateLimitedUntil);
  }

  private async runPump(): Promise<void> {
    while (this.sentVersion < this.version && !this.gone && !this.abandoned && !this.closing) {
      // Re-asked after each nap: the interval shortens as other answers finish. Once it has passed, the edit
      // also needs one from the fleet's budget (a flush is sent regardless, and counted).
      for (;;) {
        let wait = this.nextEditAt() - Date.now();
        if (wait <= 0 && !this.sendNow) wait = this.opts.pacing.take();
        if (wait <= 0 || this.closing) break;
        await this.pause(Math.min(wait, RECHECK_INTERVAL_MS));
      }
      if (this.sendNow) this.opts.pacing.spend();
      // A finishing answer skips the pending intermediate edit: the final one supersedes it.
      if (this.closing) return;
      const version = this.version;
      try {
        await this.render(false);
        this.sentVersion = version;
        this.edits++;
      } catch (err) {
        const f = slackFailure(err);
        if (this.gone || this.abandoned) return;
        if (f?.error === 'ratelimited') {
          this.rateLimitedUntil = Date.now() + (f.retryAfterMs ?? 1000);
          this.opts.logger.debug({ retryAfterMs: f.retryAfterMs }, 'Slack rate-limited a streaming edit; sending only the newest text later');
          continue;
        }
        this.logEditFailure(err);
        this.sentVersion = version; // drop this edit; the next text (or the final one) supersedes it
      }
      this.lastEditAt = Date.now();
      this.sendNow = false;
    }
  }

  private logEditFailure(err: unknown) {
    this.opts.logger.warn({ slackError: slackFailure(err)?.error ?? String(err) }, 'a streaming edit failed; continuing');
  }

  /** Brings Slack up to the current text: finishes full messages, then edits the live one. */
  private async render(final: boolean): Promise<void> {
    if (this.text.length === 0) {
      if (!final) await this.write(this.status, METADATA.pending, this.cancelValue);
      return;
    }
    for (;;) {
      const taken = takePiece(this.text.slice(this.committedChars), this.limit, this.carry);
      const isLast = taken.rest.length === 0;
      const shown = isLast && !final ? `${taken.piece.text}${STREAMING_CURSOR}` : taken.piece.text;
      const type = isLast && !final ? METADATA.pending : METADATA.answer;
      // Made inert, text can grow (a word joiner per would-be token): keep each message within Slack's limit.
      if (inertMarkdown(shown).length > MARKDOWN_BLOCK_LIMIT && this.limit > 500) {
        this.limit = Math.floor(this.limit * 0.6);
        continue;
      }
      try {
        await this.write(shown, type);
      } catch (err) {
        // Slack's size limits are not all documented: if it says too long, use smaller messages from here on.
        if (slackFailure(err)?.error === 'msg_too_long' && this.limit > 500) {
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
  private async write(markdown: string, type: string, cancelValue?: string, liveUsers?: readonly string[]): Promise<void> {
    const key = shownKey(markdown, type, cancelValue);
    if (this.startNewMessage || this.ts.length === 0) {
      this.shownNow = undefined;
      this.ts.push(await this.post(markdown, type, cancelValue, liveUsers));
      this.shownNow = key;
      this.startNewMessage = false;
      this.changed();
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
      this.changed();
    }
    this.shownNow = key;
  }

  /** Waits until every scheduled edit has been sent (or dropped). */
  async flush(): Promise<void> {
    // Send now rather than at the next edit slot (unless Slack asked us to wait).
    this.sendNow = true;
    if (this.rateLimitedUntil <= Date.now()) this.wake?.();
    await this.pump;
  }

  /** Stops streaming edits and waits for the one in flight, honouring a Retry-After. */
  private async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.pump;
    const wait = this.rateLimitedUntil - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /** Shows the whole answer at once (the final edit does not wait for the next edit slot). */
  async finish(text: string): Promise<void> {
    this.text = text;
    this.version++;
    await this.close();
    await this.retryRateLimited(() => this.render(true));
    this.sentVersion = this.version;
  }

  /**
   * Ends the answer with a failure message: it replaces the placeholder when
   * nothing was shown yet; after partial text, the text stays and the message
   * follows it. `liveUsers`: ids the message mentions on purpose (e.g. who cancelled).
   */
  async fail(message: string, liveUsers?: readonly string[]): Promise<void> {
    this.version++;
    await this.close();
    if (this.ts.length === 0) {
      await this.post(message, METADATA.notice, undefined, liveUsers);
      return;
    }
    if (this.text.length === 0) {
      await this.replaceWith(message, liveUsers);
      return;
    }
    // Partial text stays (marked final); the message follows it.
    await this.retryRateLimited(() => this.render(true)).catch((err) => this.logEditFailure(err));
    await this.retryRateLimited(() => this.post(message, METADATA.notice, undefined, liveUsers));
  }

  /**
   * Turns the placeholder into `message`. If Slack refuses the edit, the
   * message is posted anew and the placeholder removed: a placeholder must
   * never be left behind.
   */
  private async replaceWith(message: string, liveUsers?: readonly string[]): Promise<void> {
    try {
      await this.retryRateLimited(() => this.write(message, METADATA.notice, undefined, liveUsers));
    } catch (err) {
      if (this.gone || this.abandoned) throw err;
      this.logEditFailure(err);
      const placeholder = this.ts.pop();
      await this.retryRateLimited(() => this.post(message, METADATA.notice, undefined, liveUsers));
      if (placeholder) await this.call(() => this.client.chat.delete({ channel: this.opts.channel, ts: placeholder })).catch((e) => this.logEditFailure(e));
    }
  }

  /** A separate short note in the thread (e.g. that a long question was cut). */
  async note(message: string): Promise<void> {
    await this.retryRateLimited(() => this.post(message, METADATA.notice));
  }

  private retryRateLimited<T>(fn: () => Promise<T>): Promise<T> {
    return withRateLimitWait(fn, { tries: MAX_FINAL_TRIES, stop: () => this.gone !== undefined || this.abandoned });
  }
}
