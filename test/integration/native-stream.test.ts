/**
 * The whole path with SLACK_STREAMING=auto: a mention in a channel is
 * answered in Slack's own streaming message for the person who asked, its
 * reasoning hidden, reading as the edited answer would; the thread history
 * of a later question reads the streamed answer back as the bot's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';

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
});
