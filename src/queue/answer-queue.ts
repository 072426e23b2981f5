/**
 * The producer side: the listener adds one job per Slack message. The job id
 * is derived from the message, so Slack's redeliveries are ignored while the
 * job (or its record) exists.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueReadings } from '../team/admin-status.ts';
import { ANSWER_BACKOFF } from './answer/outcome.ts';
import { ANSWER_JOB, ANSWER_QUEUE, type AnswerJobData, type AnswerRequest, answerJobId, progressOf, requestOf, rerunJobId } from './answer-job.ts';
import { redisKeys } from '../redis-keys.ts';

/** Completed jobs are kept this long so a late Slack retry still finds its job and is ignored. */
const KEEP_COMPLETED_SECONDS = 60 * 60;
const KEEP_FAILED_SECONDS = 7 * 24 * 60 * 60;
/** How many waiting jobs are looked at to find the oldest. */
const OLDEST_SCAN = 200;
/** While questions queue up, the count is read at most this often per process (this process's own adds counted on top). */
const WAITING_READ_MS = 250;

/**
 * The job's place in line. BullMQ serves its plain wait list (first in, first
 * out) before any prioritized job, so a first turn (priority 1, the best) goes
 * there: the same order as priority 1, in fewer commands than a prioritized job.
 */
function placeInLine(turn: number): { priority?: number } {
  return turn > 1 ? { priority: turn } : {};
}

export class AnswerQueue {
  private readonly queue: Queue<AnswerJobData>;
  /** The last count of waiting questions read, when, and how many this process added since. */
  private waiting = { count: 0, readAt: 0, addedSince: 0 };
  /** A read of the count in flight, shared by the questions that arrive meanwhile. */
  private reading: Promise<number> | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    attempts: number,
    onError: (err: Error) => void = () => {},
  ) {
    this.queue = new Queue<AnswerJobData>(ANSWER_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts,
        backoff: ANSWER_BACKOFF,
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: KEEP_FAILED_SECONDS },
      },
    });
    this.queue.on('error', onError);
  }

  /**
   * Adds the job (a second add for the same message is a no-op) and returns
   * its id. `turn` orders waiting jobs (1 first): fair turns between people.
   */
  async add(data: AnswerRequest, turn = 1): Promise<string> {
    const jobId = answerJobId(data);
    await this.queue.add(ANSWER_JOB, data, { jobId, ...placeInLine(turn) });
    this.waiting.addedSince++;
    return jobId;
  }

  /** A question not yet finished: who asked, where, and the messages its answer has posted so far. */
  async findOpen(jobId: string): Promise<{ user: string; channel: string; messageTs: string[] } | undefined> {
    const job = await this.queue.getJob(jobId);
    return job && !job.finishedOn ? { user: job.data.user, channel: job.data.channel, messageTs: progressOf(job.data).answerTs ?? [] } : undefined;
  }

  /**
   * Removes a question only while it is parked (delayed): a running one is
   * left to its worker. Returns its asker when it was removed.
   */
  async removeIfParked(jobId: string): Promise<{ user: string } | undefined> {
    const job = await this.queue.getJob(jobId);
    if (!job || !(await job.isDelayed())) return undefined;
    const removed = await job.remove().then(
      () => true,
      () => false,
    );
    return removed ? { user: job.data.user } : undefined;
  }

  /** How many questions are waiting for a worker (the one just added included). */
  async waitingCount(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized');
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  }

  /**
   * About how many questions wait for a worker, for the "N questions ahead"
   * status. While there is a queue, Redis is asked at most every 250 ms and
   * this process's own adds since are counted on top; while there is none (the
   * workers keep up), it is asked every time, so a queue that starts is seen at
   * once and a status is never shown for nothing.
   */
  async waitingNow(now = Date.now()): Promise<number> {
    const w = this.waiting;
    if (w.count > 0 && now - w.readAt < WAITING_READ_MS) return w.count + w.addedSince;
    if (!this.reading) {
      const addedBefore = w.addedSince;
      this.reading = this.waitingCount()
        .then((count) => {
          this.waiting = { count, readAt: now, addedSince: this.waiting.addedSince - addedBefore };
          return count;
        })
        .finally(() => {
          this.reading = undefined;
        });
    }
    const count = await this.reading;
    return count + this.waiting.addedSince;
  }

  /** What was asked in a job, finished or not, while its record is kept (an hour after it finished). */
  async requestOf(jobId: string): Promise<AnswerRequest | undefined> {
    const job = await this.queue.getJob(jobId);
    return job ? requestOf(job.data) : undefined;
  }

  /**
   * Asks the same question again in its thread with `model`: a job of its own
   * (the message's id and the regeneration's number), so the earlier answer
   * stays and the new one follows it. Returns the new job's id.
   */
  async addRerun(data: AnswerRequest, model: string, priority?: (jobId: string) => Promise<number>): Promise<string> {
    const counter = redisKeys(this.prefix).reruns(answerJobId(data));
    const n = await this.connection.incr(counter);
    await this.connection.expire(counter, 30 * 86_400);
    const jobId = rerunJobId(data, n);
    // Neither the event nor the queue position shown for the first asking belongs to the re-run.
    const { eventId: _eventId, queueStatus: _queueStatus, ...request } = data;
    await this.queue.add(ANSWER_JOB, { ...request, receivedAt: Date.now(), progress: { model } }, { jobId, ...placeInLine(priority ? await priority(jobId) : 1) });
    return jobId;
  }

  /** Counts for the admin status: waiting (with the oldest's age), running, parked, and live workers. */
  async readings(): Promise<QueueReadings> {
    const [counts, workers, waiting] = await Promise.all([
      this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed'),
      this.queue.getWorkersCount(),
      this.queue.getJobs(['prioritized', 'waiting'], 0, OLDEST_SCAN - 1),
    ]);
    const oldestAt = Math.min(...waiting.map((j) => j.timestamp));
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      running: counts.active ?? 0,
      parked: counts.delayed ?? 0,
      ...(Number.isFinite(oldestAt) ? { oldestWaitMs: Date.now() - oldestAt } : {}),
      workers,
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
