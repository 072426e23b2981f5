/**
 * The producer side: the listener adds one job per Slack message. The job id
 * is derived from the message, so Slack's redeliveries are ignored while the
 * job (or its record) exists.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ANSWER_JOB, ANSWER_QUEUE, type AnswerJobData, answerJobId } from './answer-job.ts';

/** Completed jobs are kept this long so a late Slack retry still finds its job and is ignored. */
const KEEP_COMPLETED_SECONDS = 60 * 60;
const KEEP_FAILED_SECONDS = 7 * 24 * 60 * 60;

export class AnswerQueue {
  readonly queue: Queue<AnswerJobData>;

  constructor(
    connection: Redis,
    prefix: string,
    attempts: number,
    onError: (err: Error) => void = () => {},
  ) {
    this.queue = new Queue<AnswerJobData>(ANSWER_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts,
        backoff: { type: 'metis' },
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: KEEP_FAILED_SECONDS },
      },
    });
    this.queue.on('error', onError);
  }

  /**
   * Adds the job (a second add for the same message is a no-op) and returns
   * its id. `priority` orders waiting jobs (1 first): fair turns between people.
   */
  async add(data: AnswerJobData, priority?: (jobId: string) => Promise<number>): Promise<string> {
    const jobId = answerJobId(data);
    await this.queue.add(ANSWER_JOB, data, { jobId, ...(priority ? { priority: await priority(jobId) } : {}) });
    return jobId;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
