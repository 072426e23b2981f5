/**
 * The producer's view of the queue against a real Redis: how many questions
 * wait, as the "N questions ahead" status reads it.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ANSWER_QUEUE } from '../../src/queue/answer-job.ts';
import { AnswerQueue } from '../../src/queue/answer-queue.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(() => redis.disconnect());

const question = (n: number) => ({ source: 'mention' as const, teamId: 'T0001', channel: 'C0CHAN', user: 'U0ASKER', text: `q${n}`, ts: `17000000${n}.000100`, threadTs: `17000000${n}.000100`, inThread: false, receivedAt: Date.now() });

describe('the waiting count', () => {
  it('is read from Redis while there is no queue; while there is one, at most every 250 ms, with this process\'s adds counted on top', async () => {
    const prefix = `q${randomBytes(4).toString('hex')}`;
    const queue = new AnswerQueue(redis, prefix, 1);
    // Someone else's view of the same queue, to empty it behind the producer's back.
    const other = new Queue(ANSWER_QUEUE, { connection: redis, prefix });
    try {
      const t = 1_000_000;
      expect(await queue.waitingNow(t)).toBe(0);
      await queue.add(question(10));
      expect(await queue.waitingNow(t + 1)).toBe(1); // no queue at the last read: read again
      await queue.add(question(11));
      await queue.add(question(12));
      await other.drain();
      // Within 250 ms of a read that found a queue: the last count and the two added since, not read.
      expect(await queue.waitingNow(t + 250)).toBe(3);
      expect(await queue.waitingNow(t + 251)).toBe(0); // read again: emptied
      await queue.add(question(13));
      expect(await queue.waitingNow(t + 252)).toBe(1); // no queue: read at once
    } finally {
      await other.close();
      await queue.close();
    }
  });
});
