/**
 * How an attempt at answering ends, and the whole retry policy: what each
 * outcome means to BullMQ (`toBullMQ`), how long a retried job waits
 * (`retryDelayMs`, and `answerBackoff` for the worker), and the queue's
 * `backoff` option that selects that strategy. Whether attempts are left is
 * decided in triage.ts; everything BullMQ sees is decided here.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { isMetisError, MetisError } from '../../errors.ts';
import type { AnswerJobData, AnswerJobResult } from '../answer-job.ts';

/** Why a question is parked; parking.ts documents each one (delay, Cancel button, limit). */
export type ParkReason = 'paused' | 'access' | 'model' | 'team-tokens' | 'turn' | 'gateway-busy' | 'token-limit';

/** Waits as a delayed job (no worker slot held) and runs again after `delayMs`; `note` (kept when undefined) is what its thread shows. */
export interface Park {
  kind: 'park';
  reason: ParkReason;
  delayMs: number;
  note?: string;
  cancellable: boolean;
}
/** Done: everything the thread needed was already said. */
export interface Finish {
  kind: 'finish';
  result: AnswerJobResult;
}
/** Tried again later. With `delayMs`, after that long (and `status` shown meanwhile); without, after the queue's default backoff. */
export interface Retry {
  kind: 'retry';
  cause: unknown;
  delayMs?: number;
  status?: string;
}
/** Failed for good: the asker is told why, and the job is not tried again. */
export interface Fail {
  kind: 'fail';
  error: unknown;
  code: string;
  model?: string;
}
/** The job's lock was lost: another worker owns the answer now, and this copy stops without a word. */
export interface HandedOver {
  kind: 'handed-over';
  cause: unknown;
}
export type Outcome = Finish | Park | Retry | Fail | HandedOver;

/** A failure worth another attempt later: the queue retries the job after `delayMs`. */
export class RetryLater extends Error {
  constructor(
    readonly reason: MetisError,
    readonly delayMs: number,
  ) {
    super(reason.message);
    this.name = 'RetryLater';
  }
}

/** How long to wait before the next attempt after `err`. */
export function retryDelayMs(err: MetisError, attemptsMade: number, baseMs: number): number {
  if (err.code === 'token_rate_limited') return 60_000; // the gateway's TPM window is a fixed minute
  const jitter = Math.floor(Math.random() * (baseMs / 2));
  // (The request throttle's 429 never gets here: the job is parked for about a second instead.)
  return Math.min(30_000, baseMs * 2 ** Math.max(0, attemptsMade - 1)) + jitter;
}

/** The queue's `backoff` job option: it names the worker's strategy below. */
export const ANSWER_BACKOFF = { type: 'metis' } as const;

/** The worker's backoff strategy: a RetryLater's own delay; anything else thrown (Redis or Slack trouble) doubles from a second. */
export function answerBackoff(attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryLater ? err.delayMs : Math.min(30_000, 1_000 * 2 ** attemptsMade);
}

/** Ends the BullMQ job as `outcome` says: returns its result, or throws what makes BullMQ delay, retry or fail it. */
export async function toBullMQ(job: Job<AnswerJobData>, lockToken: string | undefined, outcome: Outcome): Promise<AnswerJobResult> {
  switch (outcome.kind) {
    case 'finish':
      return outcome.result;
    case 'park':
      if (!lockToken) throw new MetisError('internal', 'cannot park a job without its lock token');
      await job.moveToDelayed(Date.now() + outcome.delayMs, lockToken);
      throw new DelayedError();
    case 'retry':
      throw isMetisError(outcome.cause) && outcome.delayMs !== undefined ? new RetryLater(outcome.cause, outcome.delayMs) : outcome.cause;
    case 'fail': {
      const e = outcome.error;
      throw new UnrecoverableError(`${outcome.code}: ${isMetisError(e) ? e.message : String(e)}`);
    }
    case 'handed-over':
      throw outcome.cause;
  }
}
