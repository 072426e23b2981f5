/**
 * The whole path with SLACK_STREAMING=auto: a mention in a channel is
 * answered in Slack's own streaming message for the person who asked, its
 * reasoning hidden, reading as the edited answer would; the thread history
 * of a later question reads the streamed answer back as the bot's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

describe('native streaming through the whole service', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_STREAMING: 'auto' } });
  });
  afterEach(() => h.stop());

  it('streams a channel answer natively for the asker, reasoning hidden, and reads it back as context', async () => {
    h.gateway.setReply(() => '<think>\nweighing it up\n</think>\n\nRDMA lets one machine read <!here> another machine\'s memory.');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> what is RDMA?` });
    const [answer, ...more] = await h.reply(q);
    expect(more).toHaveLength(0);
    const start = h.slack.callsOf('chat.startStream')[0];
    expect(start?.params).toMatchObject({ channel: DEFAULT_CHANNEL, thread_ts: q.ts, recipient_user_id: q.user, recipient_team_id: TEAM_ID });
    expect(h.slack.callsOf('chat.stopStream')).toHaveLength(1);
    expect(answer?.text).toBe('RDMA lets one machine read @\u2060here another machine\'s memory.');
    expect(answer?.metadata?.event_type).toBe('metis_answer');
    expect(answer?.streaming).toBe(false);

    const follow = await h.mention({ text: `<@${BOT_USER_ID}> and then?`, thread_ts: q.ts });
    await h.reply(follow);
    const messages = (h.gateway.chatRequests.at(-1)?.body.messages ?? []) as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('a finished native answer carries the feedback buttons and re-runs, given when its stream stops', async () => {
    const q = await h.mention({ text: `<@${BOT_USER_ID}> what is RDMA?` });
    const [answer] = await h.reply(q);
    expect(h.slack.callsOf('chat.startStream')).toHaveLength(1);
    const blocks = JSON.stringify(answer?.blocks ?? []);
    expect(blocks).toContain('"type":"feedback_buttons"');
    expect(blocks).toContain('"type":"context_actions"');
    // The text still reads back as the bot's answer (Slack keeps the streamed text before the blocks).
    expect(answer?.text).toBe('You said: Ada: what is RDMA?');
  });

  it("Slack's own stop on a native stream closes the gateway request and keeps the text, marked stopped", async () => {
    // A long answer that keeps coming: Slack tells of its stop on the stream's next call.
    await h.stop();
    h = await startHarness({ mode: 'socket', env: { SLACK_STREAMING: 'auto' }, gateway: { chunkDelayMs: 20 } });
    h.gateway.setReply(() => 'Partial words that keep coming '.repeat(400));
    const q = await h.mention({ text: `<@${BOT_USER_ID}> tell me a long story` });
    const harness = h;
    const streaming = await waitFor(
      () => harness.slack.botReplies(DEFAULT_CHANNEL, q.ts).find((m) => m.streaming && m.text.length > 0),
      'the answer streaming natively',
    );
    const stoppedAt = Date.now();
    h.slack.stopStreamAsUser(DEFAULT_CHANNEL, streaming.ts);
    // Slack says so on the stream's next call; the answer's words keep it calling until then.
    const closedAt = await waitFor(() => harness.gateway.chatRequests[0]?.clientClosedAt, 'the gateway to see its connection closed', 5_000);
    expect(closedAt - stoppedAt).toBeLessThan(3_000);
    const [final] = await h.reply(q);
    expect(final?.text).toMatch(/^Par/);
    expect(final?.text).toContain('Stopped.');
    const audit = await h.redis.xrevrange(`${h.prefix}:audit`, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(expect.arrayContaining(['outcome', 'stopped']));
  });
});
