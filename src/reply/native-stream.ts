/**
 * One answer shown in Slack's own streaming messages (chat.startStream,
 * appendStream, stopStream). The answer is laid out as the edited message
 * lays it out (split-message.ts: the same cuts, the same fences; inert-text.ts:
 * the same neutralised tokens), so the finished messages read exactly as an
 * edited answer's would. A stream only appends: each append carries the
 * newly settled text (stablePiece), paced within the fleet's append budget
 * (edit-pump.ts with the append pacing). A long answer continues in a new
 * stream when the Tier-2 budget has room.
 *
 * A stream can end before the answer does: Slack closes streams after about
 * five minutes (`message_not_in_streaming_state`), refuses a start
 * (`streaming_mode_mismatch`, a rate limit, missing recipients), or a person
 * deletes the message. Then the stream hands over (`handover`): what it
 * showed is known exactly, and the owner carries on by editing (see
 * streamed-reply.ts), so no text is lost and none shown twice.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import type { EditPacing } from './edit-pacer.ts';
import { METADATA } from '../conversation/build-messages.ts';
import { stablePiece } from '../conversation/split-message.ts';
import { inertMarkdown } from '../inert-text.ts';
import { EditPump } from './edit-pump.ts';
import { type Fence, pieceLimit } from './message-chain.ts';
import { controlBlocks, type FinishedControls, requestMetadata } from './message-builders.ts';
import { slackFailure, withRateLimitWait } from './web-client.ts';

export interface NativeStreamOptions {
  channel: string;
  threadTs: string;
  requestId: string;
  /** Outside DMs Slack needs the person the stream is for. */
  asker: { user: string; teamId?: string };
  maxChars: number;
  logger: Logger;
  /** Paces the appends within the fleet's append budget. */
  pacing: EditPacing;
  /** Reserves another stream's start and stop (a long answer's next message); false when the budget has no room. */
  reserveStream: () => boolean;
  /** A stream message was started (the first one: the answer is now visible). */
  onStarted: (ts: string) => void;
  /** A person stopped the stream in Slack (`stopped_by_user`): the answer stops as its Stop button would stop it. */
  onStoppedInSlack?: () => void;
}

/** Where an ended stream leaves the answer: the edited continuation shows the answer from `chars` on, in message `ts` if given. */
export interface StreamHandover {
  chars: number;
  carry?: Fence;
  /** The message whose stream ended: it is brought up to date by editing. Unset: the answer continues in a new message. */
  ts?: string;
  reason: string;
}

/** A stop is the answer's final write: waited out this many times when Slack says "ratelimited". */
const STOP_TRIES = 6;

export class NativeStream {
  /** Stream messages, oldest first (including one handed over). */
  readonly ts: string[] = [];
  private text = '';
  /** Characters of the answer in finished stream messages. */
  private committed = 0;
  /** The finished answer's controls, for its last stopStream. */
  private controls: FinishedControls | undefined;
  private carry: Fence | undefined;
  /** The stream open now, and the (inert) text it shows. */
  private current: { ts: string; sent: string } | undefined;
  private readonly limit: number;
  private readonly pump: EditPump;
  private starting: Promise<void> | undefined;
  private abandoned = false;
  /** Set once the stream can go no further: the owner continues from here. */
  handover: StreamHandover | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly opts: NativeStreamOptions,
  ) {
    this.limit = pieceLimit(opts.maxChars);
    this.pump = new EditPump(opts.pacing, {
      send: () => this.sync(false),
      stopped: () => this.handover !== undefined || this.abandoned,
      failed: (err) => opts.logger.warn({ slackError: slackFailure(err)?.error ?? String(err) }, 'a stream append failed; continuing'),
      logger: opts.logger,
    });
  }

  get started(): boolean {
    return this.ts.length > 0;
  }

  abandon(): void {
    this.abandoned = true;
  }

  /** The visible answer so far (the whole text): the first settled text starts the stream at once, later text is paced. */
  update(text: string): void {
    this.text = text;
    if (this.started || this.starting) {
      if (!this.starting) this.pump.schedule();
      return;
    }
    this.starting = this.sync(false)
      .catch((err: unknown) => this.handOver(undefined, slackFailure(err)?.error ?? String(err)))
      .finally(() => {
        this.starting = undefined;
        if (this.started && !this.handover) this.pump.schedule();
      });
  }

  async flush(): Promise<void> {
    await this.starting;
    await this.pump.flush();
  }

  /** Shows the whole answer and stops the stream(s); afterwards `handover` says whether the owner must finish it. */
  async finish(text: string, controls?: FinishedControls): Promise<void> {
    this.text = text;
    this.controls = controls;
    await this.starting;
    await this.pump.close();
    if (this.handover || this.abandoned) return;
    await this.sync(true).catch((err: unknown) => this.handOver(this.current?.ts, slackFailure(err)?.error ?? String(err)));
  }

  private handOver(ts: string | undefined, reason: string): void {
    if (this.handover) return;
    // Slack's own stop: what was streamed stays; the answer is stopped (the owner then marks it, by editing).
    if (reason === 'stopped_by_user') this.opts.onStoppedInSlack?.();
    this.handover = { chars: this.committed, ...(this.carry ? { carry: this.carry } : {}), ...(ts ? { ts } : {}), reason };
    this.current = undefined;
    this.opts.logger.info({ reason, streams: this.ts.length }, 'the native stream ended early; continuing by editing');
  }

  /** Brings Slack up to the text: appends what has settled, stops a message that is complete, starts the next. */
  private async sync(final: boolean): Promise<void> {
    while (!this.handover && !this.abandoned) {
      const piece = stablePiece(this.text.slice(this.committed), this.limit, this.carry, final);
      const inert = inertMarkdown(piece.text);
      const last = final && this.committed + (piece.body?.length ?? 0) >= this.text.length;
      if (!this.current) {
        if (inert.trim() === '') return; // nothing settled yet (a stream cannot start empty)
        // The first stream was reserved by the owner; a long answer's next one needs room of its own.
        if (this.started && !this.opts.reserveStream()) return this.handOver(undefined, 'no room for another stream');
        if (!(await this.start(inert))) return;
        if (!piece.complete) return;
        if (!(await this.stop('', last))) return;
      } else if (!inert.startsWith(this.current.sent)) {
        // Cannot be appended (should not happen: stablePiece only grows); the message is set right by an edit at the end.
        if (piece.complete) return this.handOver(this.current.ts, 'stream text diverged');
        return;
      } else {
        const delta = inert.slice(this.current.sent.length);
        if (!piece.complete) {
          if (delta.length > 0) await this.append(delta, inert);
          return;
        }
        if (!(await this.stop(delta, last))) return;
      }
      this.committed += piece.body?.length ?? 0;
      this.carry = piece.carry;
      this.current = undefined;
      if (this.committed >= this.text.length) return;
    }
  }

  private async start(inert: string): Promise<boolean> {
    const inDm = this.opts.channel.startsWith('D');
    try {
      const res = await this.client.chat.startStream({
        channel: this.opts.channel,
        thread_ts: this.opts.threadTs,
        markdown_text: inert,
        ...(inDm ? {} : { recipient_user_id: this.opts.asker.user, ...(this.opts.asker.teamId ? { recipient_team_id: this.opts.asker.teamId } : {}) }),
      });
      const ts = res.ts as string;
      this.current = { ts, sent: inert };
      this.ts.push(ts);
      this.opts.onStarted(ts);
      return true;
    } catch (err) {
      this.handOver(undefined, slackFailure(err)?.error ?? String(err));
      return false;
    }
  }

  /** Appends; a rate limit is thrown to the pump (it sends the newest text later), anything else ends the stream. */
  private async append(delta: string, inert: string): Promise<void> {
    const current = this.current as { ts: string; sent: string };
    try {
      await this.client.chat.appendStream({ channel: this.opts.channel, ts: current.ts, markdown_text: delta });
      current.sent = inert;
    } catch (err) {
      if (slackFailure(err)?.error === 'ratelimited') throw err;
      this.handOver(current.ts, slackFailure(err)?.error ?? String(err));
    }
  }

  private async stop(delta: string, last: boolean): Promise<boolean> {
    const current = this.current as { ts: string; sent: string };
    try {
      await withRateLimitWait(
        () =>
          this.client.chat.stopStream({
            channel: this.opts.channel,
            ts: current.ts,
            ...(delta.length > 0 ? { markdown_text: delta } : {}),
            // The finished answer's feedback buttons and re-runs go on its last message, as on an edited answer.
            ...(last && this.controls ? { blocks: controlBlocks({ finished: this.controls }) } : {}),
            metadata: requestMetadata(METADATA.answer, this.opts.requestId),
          } as Parameters<WebClient['chat']['stopStream']>[0]),
        { tries: STOP_TRIES, stop: () => this.abandoned },
      );
      current.sent += delta;
      return true;
    } catch (err) {
      this.handOver(current.ts, slackFailure(err)?.error ?? String(err));
      return false;
    }
  }
}
