/**
 * A job's data keeps what was asked apart from how far the answer got: the
 * request as the listener wrote it, the progress under `progress`. Jobs queued
 * by an earlier release (progress keys at the top level) still resume in
 * their own messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AnswerJobData, answerJobId } from '../../src/queue/answer-job.ts';
import { BOT_USER_ID, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const jobKey = (harness: Harness, ts: string) => `${harness.prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: DEFAULT_CHANNEL, ts })}`;
const dataOf = async (harness: Harness, ts: string) => JSON.parse((await harness.redis.hget(jobKey(harness, ts), 'data')) ?? 'null') as AnswerJobData & Record<string, unknown>;

describe('job data: request and progress', () => {
  it('a parked question keeps its request as enqueued and its progress under one key; an old-shape job resumes in its own note', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_COLD_START_POLL_SECONDS: '1' } });
    const harness = h;
    harness.gateway.setStatus('DeepSeek-R1', 'Queued');
    const q = await harness.mention({ text: `<@${BOT_USER_ID}> -m deepseek think hard` });
    await waitFor(async () => (await dataOf(harness, q.ts))?.progress?.coldStartSince !== undefined, 'the question to park');
    const parked = await dataOf(harness, q.ts);
    const { progress, ...request } = parked;
    expect(request).toEqual({
      source: 'mention',
      teamId: TEAM_ID,
      channel: DEFAULT_CHANNEL,
      user: expect.any(String),
      text: `<@${BOT_USER_ID}> -m deepseek think hard`,
      ts: q.ts,
      threadTs: q.ts,
      inThread: false,
      eventId: expect.any(String),
      receivedAt: expect.any(Number),
    });
    const note = harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0];
    expect(progress).toMatchObject({ answerTs: [note?.ts], model: 'DeepSeek-R1', admitted: true, noteCancellable: true });

    // Rewritten as the previous release stored it: the progress keys beside the request's.
    await harness.redis.hset(jobKey(harness, q.ts), 'data', JSON.stringify({ ...request, ...progress }));
    harness.gateway.setStatus('DeepSeek-R1', 'Live');
    const replies = await harness.reply(q, { timeoutMs: 15_000 });
    expect(replies).toHaveLength(1);
    expect(replies[0]?.ts).toBe(note?.ts);
    expect(replies[0]?.text).not.toContain('Queued');
  }, 60_000);
});
