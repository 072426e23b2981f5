/**
 * The retry policy in one place: each outcome, handed to BullMQ by toBullMQ
 * from a real worker on a real Redis, leaves the job where the policy says.
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MetisError } from '../../../src/errors.ts';
import type { AnswerJobData, AnswerJobResult } from '../../../src/queue/answer-job.ts';
import { ANSWER_BACKOFF, answerBackoff, type Outcome, toBullMQ } from '../../../src/queue/answer/outcome.ts';
import { waitFor } from '../../helpers/wait.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(() => redis.disconnect());

const request: AnswerJobData = { source: 'mention', channel: 'C0CHAN', user: 'U0ASKER', text: 'hi', ts: '1.1', threadTs: '1.1', inThread: false, receivedAt: 0 };

/** Runs one job whose processor ends with `outcome`, and returns the queue to look at it. */
async function runOnce(outcome: Outcome, attempts = 3) {
  const prefix = `o${randomBytes(4).toString('hex')}`;
  const queue = new Queue<AnswerJobData>('answers', { connection: redis, prefix, defaultJobOptions: { attempts, backoff: ANSWER_BACKOFF } });
  let runs = 0;
  const worker = new Worker<AnswerJobData, AnswerJobResult>(
    'answers',
    async (job: Job<AnswerJobData>, token?: string) => {
      runs++;
      return toBullMQ(job, token, outcome);
    },
    { connection: redis, prefix, settings: { backoffStrategy: answerBackoff } },
  );
  const startedAt = Date.now();
  const job = await queue.add('answer', request, { jobId: 'j1' });
  await waitFor(async () => runs > 0 && (await queue.getJobState('j1')) !== 'active', 'the attempt to end');
  await worker.close();
  return { queue, job, startedAt, runs: () => runs };
}

const delayedUntil = async (queue: Queue, id: string) => {
  const job = await queue.getJob(id);
  return (job?.timestamp ?? 0) + (job?.delay ?? 0);
};

describe('toBullMQ', () => {
  it('park: the job is delayed by our delay, holding no attempt', async () => {
    const { queue, startedAt } = await runOnce({ kind: 'park', reason: 'model', delayMs: 60_000, cancellable: true });
    expect(await queue.getJobState('j1')).toBe('delayed');
    const job = await queue.getJob('j1');
    expect(job?.attemptsMade).toBe(0);
    const until = await delayedUntil(queue, 'j1');
    // BullMQ keeps the delay relative to the time its script saw, which can differ from ours by a millisecond or two.
    expect(until).toBeGreaterThanOrEqual(startedAt + 60_000 - 5);
    expect(until).toBeLessThan(Date.now() + 60_000 + 1);
    await queue.close();
  });

  it('fail: the job fails at once, with attempts left, and is not tried again', async () => {
    const { queue, runs } = await runOnce({ kind: 'fail', error: new MetisError('unknown_model', 'no such model'), code: 'unknown_model' });
    expect(await queue.getJobState('j1')).toBe('failed');
    const job = await queue.getJob('j1');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toBe('unknown_model: no such model');
    expect(runs()).toBe(1);
    await queue.close();
  });

  it('retry with a delay: the job waits exactly that long (RetryLater through the worker\'s backoff)', async () => {
    const { queue, startedAt } = await runOnce({ kind: 'retry', cause: new MetisError('gateway_unavailable', 'boom', {}, true), delayMs: 45_000 });
    expect(await queue.getJobState('j1')).toBe('delayed');
    const job = await queue.getJob('j1');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.delay).toBe(45_000);
    expect(await delayedUntil(queue, 'j1')).toBeGreaterThanOrEqual(startedAt);
    await queue.close();
  });

  it('retry without a delay: the cause is thrown as it is and the default backoff applies', async () => {
    const { queue } = await runOnce({ kind: 'retry', cause: new Error('Connection is closed.') });
    const job = await queue.getJob('j1');
    expect(await queue.getJobState('j1')).toBe('delayed');
    expect(job?.failedReason).toBe('Connection is closed.');
    expect(job?.delay).toBe(answerBackoff(1));
    await queue.close();
  });

  it('finish: the job completes with its result', async () => {
    const { queue } = await runOnce({ kind: 'finish', result: { outcome: 'refused', code: 'not_allowed' } });
    expect(await queue.getJobState('j1')).toBe('completed');
    expect((await queue.getJob('j1'))?.returnvalue).toEqual({ outcome: 'refused', code: 'not_allowed' });
    await queue.close();
  });
});
