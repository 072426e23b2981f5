/**
 * Slack API faults while answering: rate limits (respected; stale edits are
 * dropped, not replayed), size limits Slack enforces beyond ours, a deleted
 * placeholder, a channel the bot can no longer post in, and a rate-limited
 * thread read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';
import { laterQuestionAnswered } from '../helpers/barrier.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const STORY = Array.from({ length: 30 }, (_, i) => `sentence ${i} of the story.`).join(' ');

describe('Slack API faults', () => {
  it('a 429 on an edit is waited out: no edit during Retry-After, no stale edit afterwards, and the answer is complete', async () => {
    h = await startHarness({ mode: 'socket', gateway: { chunkDelayMs: 1, reply: () => STORY } });
    const harness = h;
    h.slack.failNext('chat.update', { rateLimitedSeconds: 1 });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> a story` });
    const [answer] = await h.reply(q, { timeoutMs: 20_000 });
    expect(answer?.text).toBe(STORY);
    const updates = harness.slack.callsOf('chat.update');
    const limited = updates[0] as { at: number };
    const next = updates[1] as { at: number; params: Record<string, unknown> };
    expect(next.at - limited.at).toBeGreaterThanOrEqual(950);
    // Only the newest text is sent after the wait: each edit shows more than the one before.
    const lengths = updates.slice(1, -1).map((u) => JSON.stringify(u.params.blocks).length);
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1] as number);
  });

  it('Slack saying "msg_too_long" makes the answer continue in smaller messages, losing nothing', async () => {
    h = await startHarness({ mode: 'socket', gateway: { reply: () => STORY } });
    h.slack.failNext('chat.update', { error: 'msg_too_long' }, 2);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> a story` });
    await h.reply(q, { timeoutMs: 20_000 });
    const parts = h.slack.botReplies(DEFAULT_CHANNEL, q.ts);
    expect(parts.map((p) => p.text).join('').replace(/\s+/g, ' ')).toBe(STORY);
  });

  it('a placeholder deleted in Slack mid-answer: the answer continues in a new message', async () => {
    h = await startHarness({ mode: 'socket', gateway: { chunkDelayMs: 1, reply: () => STORY } });
    const harness = h;
    const q = await h.mention({ text: `<@${BOT_USER_ID}> a story` });
    const placeholder = await waitFor(() => harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0], 'the placeholder');
    h.slack.deleteMessage(DEFAULT_CHANNEL, placeholder.ts);
    const replies = await h.reply(q, { timeoutMs: 20_000 });
    expect(replies).toHaveLength(1);
    expect(replies[0]?.ts).not.toBe(placeholder.ts);
    expect(replies[0]?.text).toBe(STORY);
  });

  it('a channel the bot cannot post in: logged, the request ends, nothing retried', async () => {
    h = await startHarness({ mode: 'socket' });
    h.slack.setChannelGone(DEFAULT_CHANNEL, 'not_in_channel');
    const m = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: `<@${BOT_USER_ID}> hello?` });
    await h.deliver(h.slack.eventFor(m, 'app_mention'));
    const harness = h;
    await waitFor(() => harness.logs.find((l) => l.slackError === 'not_in_channel'), 'the log line');
    // The barrier: the job has ended (a retry would keep it from ending), and a later question elsewhere is answered.
    const jobKey = `${h.prefix}:answers:msg-T0001-${DEFAULT_CHANNEL}-${m.ts}`;
    await waitFor(() => harness.redis.hget(jobKey, 'finishedOn'), 'the job to end');
    const later = await laterQuestionAnswered(h, { channel: 'C0OTHER' });
    expect(h.slack.callsOf('chat.postMessage').map((c) => c.params.channel)).toEqual([DEFAULT_CHANNEL, later.channel]);
    expect(h.gateway.chatRequests).toHaveLength(1); // the later question's
    const counts = await h.redis.hget(jobKey, 'returnvalue');
    expect(JSON.parse(counts ?? '{}')).toMatchObject({ outcome: 'conversation_gone' });
  });

  it('a rate-limited thread read is waited out, and the context still arrives', async () => {
    h = await startHarness({ mode: 'socket' });
    const root = await h.mention({ text: `<@${BOT_USER_ID}> first question` });
    await h.reply(root);
    h.slack.failNext('conversations.replies', { rateLimitedSeconds: 1 });
    const follow = await h.mention({ text: `<@${BOT_USER_ID}> second question`, thread_ts: root.ts });
    await h.reply(follow, { timeoutMs: 15_000 });
    const messages = h.gateway.chatRequests.at(-1)?.body.messages as { content: string }[];
    expect(messages.map((x) => x.content)).toContain('Ada: first question');
  });
});
