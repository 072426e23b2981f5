/**
 * Slack's own status line under a thread (assistant.threads.setStatus,
 * slack.md §2.3): "3 questions ahead", "DeepSeek-R1 is Starting",
 * "thinking…", shown while no answer text has arrived, refreshed before
 * Slack's 2-minute timeout clears it, and cleared when the text starts.
 *
 * It is an extra: the placeholder note carries the same news, so when Slack
 * refuses the method (an older workspace, a missing scope, any error) the
 * status is given up for that answer and nothing else changes. Its calls
 * share a fleet-wide budget per minute (METIS_SLACK_STATUS_PER_MINUTE: the
 * method's tier is "special" and unpublished), and it is set only when what
 * it says changes, never per token.
 */
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { MinuteBudget } from '../minute-budget.ts';
import { redisKeys } from '../redis-keys.ts';
import { slackFailure } from './web-client.ts';

/** Slack clears a status after 2 minutes without a message; it is set again well before. */
export const STATUS_REFRESH_MS = 100_000;
/**
 * An answer's first status waits this long: most answers start writing sooner,
 * and a status shown for a moment costs two Slack calls and two budget checks
 * for nothing a person can read (measured: 2 of the ~4 Slack calls and 4 of the
 * ~70 Redis commands of a quick answer).
 */
export const STATUS_GRACE_MS = 700;
/** Slack rotates at most 10 loading messages. */
const MAX_LOADING = 10;

/** The fleet's setStatus calls a minute (METIS_SLACK_STATUS_PER_MINUTE): past the budget a status is simply not set. */
export function createStatusBudget(redis: Redis, keyPrefix: string, perMinute: number, clock?: Clock): MinuteBudget {
  return new MinuteBudget(redis, redisKeys(keyPrefix).statusCalls, perMinute, clock);
}

/** A status as Slack shows it: plain words (the note's markup removed). */
export function plainStatus(markdown: string): string {
  return markdown
    .replace(/:[a-z0-9_+-]+:/g, '')
    .replace(/[`*_~]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 150);
}

export interface ThreadStatusTarget {
  channel: string;
  threadTs: string;
  logger: Logger;
  /**
   * What is showing when the answer starts, so the answer replaces it at once and its end clears it: what an
   * earlier attempt left (a parked question's status), or the queue position the listener showed.
   */
  shown?: string;
  /** A first status waits this long, and is not shown if cleared by then (STATUS_GRACE_MS for answers; 0: at once). */
  graceMs?: number;
}

export class ThreadStatus {
  /** What the answer wants shown. */
  private current = '';
  /** What Slack was last told (a set the budget held back was not sent). */
  private onSlack = '';
  private refused = false;
  private stopRefresh: (() => void) | undefined;
  private sending: Promise<void> = Promise.resolve();
  /** A first status waiting out its grace: when it ends. */
  private graceEnds: Promise<void> | undefined;

  constructor(
    private readonly slack: WebClient,
    private readonly budget: MinuteBudget,
    private readonly clock: Clock,
    private readonly target: ThreadStatusTarget,
  ) {
    this.current = target.shown ?? '';
    this.onSlack = this.current;
  }

  /** What it shows now ('' when cleared or never set). */
  get shown(): string {
    return this.current;
  }

  /**
   * Shows `status` (with rotating `loading` messages), refreshed until cleared
   * or stopped; `refresh: false` sets it once (a parked question refreshes it
   * when it wakes); `again` sends it even if unchanged. Not awaited by callers that stream.
   */
  set(status: string, opts: { loading?: readonly string[]; refresh?: boolean; again?: boolean } = {}): Promise<void> {
    if (this.refused || (status === this.current && !opts.again)) return this.sending;
    const loading = opts.loading ?? [status];
    this.current = status;
    this.stopRefreshing();
    if (opts.refresh === false) {
      this.graceEnds = undefined;
      return this.send(status, loading);
    }
    if (this.graceEnds) return this.sending; // the status waiting out its grace becomes this one
    const grace = this.target.graceMs ?? 0;
    if (grace <= 0 || this.onSlack !== '') return this.show(loading);
    // Whatever it says when the grace ends is shown then; a clear (or stop) before that shows nothing.
    const ends = this.clock.sleep(grace).then(() => {
      if (this.graceEnds !== ends) return;
      this.graceEnds = undefined;
      if (this.current !== '') void this.show([this.current]);
    });
    this.graceEnds = ends;
    return this.sending;
  }

  /** Sends what it shows now, and refreshes it until cleared or stopped. */
  private show(loading: readonly string[]): Promise<void> {
    this.stopRefresh = this.clock.every(STATUS_REFRESH_MS, () => void this.send(this.current, loading));
    return this.send(this.current, loading);
  }

  /** Stops refreshing (and a status still in its grace is not shown), leaving what it shows (Slack's timeout clears it). */
  stop(): void {
    this.graceEnds = undefined;
    this.stopRefreshing();
  }

  private stopRefreshing(): void {
    this.stopRefresh?.();
    this.stopRefresh = undefined;
  }

  /** Clears it (the answer's text has started, or the answer ended). */
  clear(): Promise<void> {
    this.stop();
    if (this.refused || this.current === '') return this.sending;
    this.current = '';
    return this.send('', []);
  }

  private send(status: string, loading: readonly string[]): Promise<void> {
    // In order: a clear must never overtake the set before it.
    this.sending = this.sending.then(async () => {
      if (this.refused) return;
      const clearing = status === '';
      // Nothing shown, nothing to clear. A clear is never held back by the budget: a status left up would
      // say "thinking…" over an answer already being written.
      if (clearing && this.onSlack === '') return;
      if (!clearing && !(await this.budget.take().catch(() => false))) return;
      try {
        await this.slack.assistant.threads.setStatus({
          channel_id: this.target.channel,
          thread_ts: this.target.threadTs,
          status,
          ...(status && loading.length ? { loading_messages: loading.slice(0, MAX_LOADING) } : {}),
        } as Parameters<WebClient['assistant']['threads']['setStatus']>[0]);
        this.onSlack = status;
      } catch (err) {
        // Refused here (an older workspace, a missing scope…): the placeholder note says the same; stop asking.
        this.refused = true;
        this.stop();
        this.target.logger.debug({ slackError: slackFailure(err)?.error ?? String(err) }, 'Slack refused the thread status; the placeholder carries it');
      }
    });
    return this.sending;
  }
}

export type ThreadStatusFactory = (target: ThreadStatusTarget) => ThreadStatus;
