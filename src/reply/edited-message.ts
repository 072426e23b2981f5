/**
 * The Reply that shows an answer by editing ordinary thread messages: a
 * placeholder first (the sign of life), then paced edits carrying the latest
 * text (edit-pump.ts), laid out over as many messages as it needs
 * (message-chain.ts), and a final edit that is never held back.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import type { EditPacer, EditPacing } from './edit-pacer.ts';
import { METADATA } from '../conversation/build-messages.ts';
import { EditPump } from './edit-pump.ts';
import { type ChainOptions, MessageChain } from './message-chain.ts';
import { type FinishedControls, type MessageControls, shownKey } from './message-builders.ts';
import type { Reply, ReplyFactory } from './reply.ts';
import { slackFailure } from './web-client.ts';

export interface EditedMessageOptions {
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
  onMessagesChanged?: (ts: string[], answered?: boolean) => void;
  /** What the live message showed when an earlier attempt last wrote it (`shown`), if known. */
  existingShown?: string;
  /** The answer's start is already shown elsewhere (an ended native stream): see ChainOptions. */
  continueFrom?: ChainOptions['continueFrom'];
  /** Waits before each post (the channel's fleet-wide post slot). */
  beforePost?: () => Promise<void>;
}

/** The worker's ReplyFactory: each answer an edited message, paced within the fleet's edit budget. */
export function editedMessageReplies(slack: WebClient, pacer: EditPacer, maxChars: number): ReplyFactory {
  return (target) =>
    new EditedMessageReply(slack, {
      channel: target.channel,
      threadTs: target.threadTs,
      requestId: target.requestId,
      pacing: pacer.forAnswer(),
      maxChars,
      logger: target.logger,
      existingTs: target.resume?.messageTs,
      existingShown: target.resume?.shown,
      onMessagesChanged: target.onMessagesChanged,
    });
}

export class EditedMessageReply implements Reply {
  private readonly chain: MessageChain;
  private readonly pump: EditPump;
  private status = '';
  /** While waiting (cold start), the placeholder offers a Cancel button carrying this value. */
  private cancelValue: string | undefined;
  private text = '';
  /** What the finished answer offers under it (feedback, regenerate, other models), when told. */
  private finished: FinishedControls | undefined;

  constructor(
    client: WebClient,
    private readonly opts: EditedMessageOptions,
  ) {
    this.chain = new MessageChain(client, opts);
    this.pump = new EditPump(opts.pacing, {
      send: () => this.render(false),
      stopped: () => this.chain.stopped,
      failed: (err) => this.chain.logEditFailure(err),
      logger: opts.logger,
    });
  }

  get shown(): string | undefined {
    return this.chain.shown;
  }

  get messageTs(): string[] {
    return this.chain.messageTs;
  }

  abandon(): void {
    this.chain.abandon();
  }

  async begin(status: string, cancelValue?: string, waiting = false): Promise<void> {
    const restarted = await this.chain.keepFirstOnly();
    if (!this.chain.hasMessages) {
      this.status = status;
      this.cancelValue = cancelValue;
      await this.chain.open(status, METADATA.pending, cancelValue);
    } else if (waiting && !restarted) {
      await this.showWaiting(status, cancelValue);
    } else {
      this.status = status;
      this.cancelValue = cancelValue;
      this.opts.pacing.spend(); // sent regardless (it replaces what an earlier attempt left), but counted
      await this.chain.write(status, METADATA.pending, cancelValue).catch((err) => this.chain.logEditFailure(err));
    }
    this.chain.reportMessages();
    this.pump.caughtUp();
  }

  /**
   * Shows a waiting note (with a Cancel button when `cancelValue` is set),
   * unless the live message already shows it: a parked question wakes often,
   * and its note seldom changes. The edit takes one from the fleet's edit
   * budget; when none is left, the message keeps its older note for now and
   * false is returned (a parked question tries again when it next wakes).
   */
  async showWaiting(status: string, cancelValue?: string): Promise<boolean> {
    const key = shownKey(status, METADATA.pending, cancelValue);
    if (this.pump.busy || this.text.length > 0) {
      // Edits are under way: the note goes the way they do.
      this.setStatus(status, cancelValue);
      await this.flush();
      return this.chain.shown === key;
    }
    this.status = status;
    this.cancelValue = cancelValue;
    if (this.chain.hasMessages && this.chain.shown === key) return true;
    if (this.chain.hasMessages && (this.pump.isRateLimited || this.opts.pacing.take() > 0)) return false;
    try {
      await this.chain.write(status, METADATA.pending, cancelValue);
    } catch (err) {
      if (this.chain.stopped) throw err;
      const f = slackFailure(err);
      if (f?.error === 'ratelimited') this.pump.rateLimited(f.retryAfterMs);
      else this.chain.logEditFailure(err);
      return false;
    }
    this.pump.wrote();
    return true;
  }

  setStatus(status: string, cancelValue?: string): void {
    if (status === this.status && cancelValue === this.cancelValue) return;
    this.status = status;
    this.cancelValue = cancelValue;
    this.pump.schedule();
  }

  update(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.pump.schedule();
  }

  flush(): Promise<void> {
    return this.pump.flush();
  }

  /** The final edit does not wait for the next edit slot. */
  async finish(text: string, finished?: FinishedControls): Promise<void> {
    this.text = text;
    this.finished = finished;
    await this.close();
    await this.chain.retryRateLimited(() => this.render(true));
  }

  async fail(message: string, liveUsers?: readonly string[]): Promise<void> {
    await this.close();
    if (!this.chain.hasMessages) {
      await this.chain.postNotice(message, liveUsers);
      return;
    }
    if (this.text.length === 0) {
      await this.chain.replaceWith(message, liveUsers);
      return;
    }
    // Partial text stays (marked final); the message follows it.
    await this.chain.retryRateLimited(() => this.render(true)).catch((err) => this.chain.logEditFailure(err));
    await this.chain.retryRateLimited(() => this.chain.postNotice(message, liveUsers));
  }

  async note(message: string): Promise<void> {
    await this.chain.retryRateLimited(() => this.chain.postNotice(message));
  }

  /** Ends streaming: from here on every edit is final, and counted in the fleet's budget. */
  private async close(): Promise<void> {
    this.chain.countEveryEdit();
    await this.pump.close();
  }

  /**
   * Shows the current text, or while there is none the status line (a final render with no text shows nothing new).
   * While it is being written the answer carries a Stop button (a waiting note its Cancel instead); finished, its controls.
   */
  private async render(final: boolean): Promise<void> {
    const stop: MessageControls = { stop: this.opts.requestId };
    if (this.text.length > 0) await this.chain.render(this.text, final, { streaming: stop, ...(this.finished ? { final: { finished: this.finished } } : {}) });
    else if (!final) await this.chain.write(this.status, METADATA.pending, this.cancelValue ?? stop);
  }
}
