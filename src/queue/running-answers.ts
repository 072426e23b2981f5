/**
 * The answers this worker process is running, each with an abort signal that
 * fires when someone stops it — whichever process the Stop was pressed in:
 * every worker listens on the stop channel (Cancellations.cancel publishes
 * there), and the one running the answer aborts its gateway request at once.
 * A stop that came before the answer was tracked is caught by the flag that
 * admission reads (see cancellation.ts), so none is lost between the two.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { redisKeys } from '../redis-keys.ts';
import type { StopMessage } from './cancellation.ts';

/** Why an answer's signal was aborted: someone stopped it. */
export class AnswerStopped extends Error {
  constructor(readonly by: string) {
    super(`stopped by ${by}`);
    this.name = 'AnswerStopped';
  }
}

export interface TrackedAnswer {
  /** Aborted (with an AnswerStopped reason) when someone stops the answer. */
  signal: AbortSignal;
  release(): void;
}

export class RunningAnswers {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly subscriber: Redis | undefined,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
  ) {}

  /** Starts listening (the connection is given to it alone: a subscribed connection can do nothing else). */
  async start(): Promise<void> {
    if (!this.subscriber) return;
    const channel = redisKeys(this.keyPrefix).stopChannel;
    this.subscriber.on('message', (from: string, raw: string) => {
      if (from !== channel) return;
      try {
        const m = JSON.parse(raw) as StopMessage;
        this.stopHere(m.jobId, m.by);
      } catch (err) {
        this.logger.warn({ err }, 'an unreadable message on the stop channel');
      }
    });
    await this.subscriber.subscribe(channel);
  }

  track(jobId: string): TrackedAnswer {
    // A job runs once per process at a time; a newer attempt replaces an older one's entry.
    const controller = new AbortController();
    this.running.set(jobId, controller);
    return {
      signal: controller.signal,
      release: () => {
        if (this.running.get(jobId) === controller) this.running.delete(jobId);
      },
    };
  }

  /** Stops an answer this process runs (also what Slack's stop on a native stream calls); false if it runs elsewhere. */
  stopHere(jobId: string, by: string): boolean {
    const controller = this.running.get(jobId);
    if (!controller || controller.signal.aborted) return false;
    this.logger.info({ requestId: jobId, by }, 'answer stopped');
    controller.abort(new AnswerStopped(by));
    return true;
  }

  get size(): number {
    return this.running.size;
  }
}
