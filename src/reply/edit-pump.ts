/**
 * Paces the streaming edits of one message: never more often than its pacing
 * allows (per message, and within the fleet's budget: see edit-pacer.ts) and
 * never while Slack has asked us to wait. Edits coalesce: each one sends
 * whatever is newest when it goes, so an edit that was rate-limited is
 * dropped rather than replayed late.
 */
import type { Logger } from '../logger.ts';
import type { EditPacing } from './edit-pacer.ts';
import { slackFailure } from './web-client.ts';

/** A waiting edit re-reads its interval this often, so it goes sooner when the fleet quietens. */
const RECHECK_INTERVAL_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EditPumpHooks {
  /** Brings the message up to the newest state (one streaming edit, or several messages' worth). */
  send(): Promise<void>;
  /** No write can succeed any more: the pump stops. */
  stopped(): boolean;
  /** An edit failed for another reason than a rate limit: it is dropped (the next one supersedes it). */
  failed(err: unknown): void;
  logger: Logger;
}

export class EditPump {
  private version = 0;
  private sentVersion = 0;
  /** When the last edit (or the placeholder) went out. */
  private lastEditAt = 0;
  /** Streaming edits sent so far. */
  private edits = 0;
  /** The next edit goes as soon as Slack allows, not at the next edit slot (flush). */
  private sendNow = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Slack asked us not to call before this time (Retry-After). */
  private rateLimitedUntil = 0;
  /** The answer is ending: no more streaming edits. */
  private closing = false;

  constructor(
    private readonly pacing: EditPacing,
    private readonly hooks: EditPumpHooks,
  ) {}

  /** Edits are under way (one is waiting for its slot, or in flight). */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Something newer is to be shown: an edit goes at the next slot. */
  schedule(): void {
    this.version++;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** The message was just written outside the pump; the next edit waits a full interval from now. */
  wrote(): void {
    this.lastEditAt = Date.now();
  }

  /** As `wrote`, and everything scheduled so far counts as shown. */
  caughtUp(): void {
    this.sentVersion = this.version;
    this.wrote();
  }

  /** Slack answered "ratelimited": no edit before its Retry-After. */
  rateLimited(retryAfterMs: number | undefined): void {
    this.rateLimitedUntil = Date.now() + (retryAfterMs ?? 1000);
  }

  get isRateLimited(): boolean {
    return this.rateLimitedUntil > Date.now();
  }

  /** Waits until every scheduled edit has been sent (or dropped). */
  async flush(): Promise<void> {
    // Send now rather than at the next edit slot (unless Slack asked us to wait).
    this.sendNow = true;
    if (!this.isRateLimited) this.wake?.();
    await this.running;
  }

  /** Stops streaming edits and waits for the one in flight, honouring a Retry-After. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.running;
    const wait = this.rateLimitedUntil - Date.now();
    if (wait > 0) await sleep(wait);
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
    const slot = this.sendNow ? 0 : this.lastEditAt + this.pacing.intervalMs(this.edits === 0);
    return Math.max(slot, this.rateLimitedUntil);
  }

  private async run(): Promise<void> {
    while (this.sentVersion < this.version && !this.hooks.stopped() && !this.closing) {
      // Re-asked after each nap: the interval shortens as other answers finish. Once it has passed, the edit
      // also needs one from the fleet's budget (a flush is sent regardless, and counted).
      for (;;) {
        let wait = this.nextEditAt() - Date.now();
        if (wait <= 0 && !this.sendNow) wait = this.pacing.take();
        if (wait <= 0 || this.closing) break;
        await this.pause(Math.min(wait, RECHECK_INTERVAL_MS));
      }
      if (this.sendNow) this.pacing.spend();
      // A finishing answer skips the pending intermediate edit: the final one supersedes it.
      if (this.closing) return;
      const version = this.version;
      try {
        await this.hooks.send();
        this.sentVersion = version;
        this.edits++;
      } catch (err) {
        const f = slackFailure(err);
        if (this.hooks.stopped()) return;
        if (f?.error === 'ratelimited') {
          this.rateLimited(f.retryAfterMs);
          this.hooks.logger.debug({ retryAfterMs: f.retryAfterMs }, 'Slack rate-limited a streaming edit; sending only the newest text later');
          continue;
        }
        this.hooks.failed(err);
        this.sentVersion = version; // drop this edit; the next text (or the final one) supersedes it
      }
      this.lastEditAt = Date.now();
      this.sendNow = false;
    }
  }
}
