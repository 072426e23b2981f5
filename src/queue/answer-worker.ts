/**
 * The consumer side: a BullMQ worker running the answer processor. Retries
 * are decided by what the processor throws (the policy is in
 * answer/outcome.ts): RetryLater carries its own delay; UnrecoverableError
 * ends the job (the user has already been told).
 */
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { ANSWER_QUEUE, type AnswerJobData, type AnswerJobResult } from './answer-job.ts';
import { type AnswerDeps, createAnswerProcessor } from './answer/processor.ts';
import { answerBackoff, RetryLater } from './answer/outcome.ts';

export function createAnswerWorker(opts: {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** How long a job's lock lasts without renewal; a dead worker's job is taken over after about this long. */
  lockMs: number;
  deps: AnswerDeps;
  logger: Logger;
  /** Called once a job is finished for good (answered, refused or failed), not between attempts. */
  onFinished?: (job: Job<AnswerJobData>) => Promise<void>;
}): Worker<AnswerJobData, AnswerJobResult> {
  const worker = new Worker<AnswerJobData, AnswerJobResult>(ANSWER_QUEUE, createAnswerProcessor(opts.deps), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: opts.lockMs,
    // A job whose worker died is taken over (and its answer restarted in place) rather than failed
    // silently after one stall, which would leave its placeholder behind; a job that keeps killing
    // workers still stops after this many.
    maxStalledCount: 10,
    settings: { backoffStrategy: answerBackoff },
  });
  worker.on('completed', (job) => {
    void opts.onFinished?.(job).catch(() => undefined);
  });
  worker.on('failed', (job, err) => {
    if (job?.finishedOn) void opts.onFinished?.(job).catch(() => undefined);
    if (err instanceof RetryLater) return; // logged by the processor
    if (err.name === 'UnrecoverableError') return; // the user was told; logged by the processor
    opts.logger.error({ requestId: job?.id, err }, 'answer job failed');
  });
  // A job whose lock could not be renewed may already run elsewhere: stop this copy writing to Slack.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) worker.cancelJob(id, 'lock lost');
  });
  worker.on('error', (err) => opts.logger.error({ err }, 'queue worker error'));
  return worker;
}
