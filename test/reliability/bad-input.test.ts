/**
 * Bad input gets a clear answer and loses nothing: huge messages, odd
 * unicode, file shares, odd slash-command text. The bot lives on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { laterQuestionAnswered } from '../helpers/barrier.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('bad input', () => {
  it('a 100 kB message is not cut silently: its size and the way on are said, the gateway is not asked, and the bot lives on', async () => {
    h = await startHarness({ mode: 'http' });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> ${'x'.repeat(100_000)}` });
    const [answer] = await h.reply(q, { timeoutMs: 15_000 });
    expect(answer?.text).toContain('Your question is too long for every model Live on Metis right now');
    expect(answer?.text).toContain('100,0');
    expect(h.gateway.chatRequests).toHaveLength(0);
    const [still] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> still there?` }));
    expect(still?.text).toBe('You said: Ada: still there?');
  });

  it('unicode survives the round trip: emoji, right-to-left text, combining marks, zero-width joiners', async () => {
    h = await startHarness({ mode: 'socket' });
    const text = '👩🏽‍🔬 مرحبا שלום e\u0301 \u200d 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 &lt;tag&gt;';
    const q = await h.mention({ text: `<@${BOT_USER_ID}> ${text}` });
    const [answer] = await h.reply(q);
    expect(answer?.text).toBe('You said: Ada: 👩🏽‍🔬 مرحبا שלום e\u0301 \u200d 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 <tag>');
  });

  it('a message shared with a file is still a question', async () => {
    h = await startHarness({ mode: 'socket' });
    const m = h.slack.postAsUser({ channel: 'D0DM', user: DEFAULT_USER, text: 'what is in this file?' });
    await h.deliver(h.slack.eventFor(m, 'message', { subtype: 'file_share', files: [{ id: 'F1', name: 'a.txt' }] }));
    const [answer] = await h.reply(m);
    expect(answer?.text).toBe('You said: Ada: what is in this file?');
  });

  it('odd slash-command text gets help, not a crash', async () => {
    h = await startHarness({ mode: 'socket' });
    for (const text of ['', '   ', 'model', 'model ""', 'bogus ☃', `model ${'y'.repeat(5000)}`]) {
      const { body } = await h.command('/metis', text);
      expect(typeof body.text).toBe('string');
    }
    for (const text of ['public public', '💥', 'z'.repeat(3000)]) {
      const { body } = await h.command('/metis-models', text);
      expect(body.text ?? body.blocks).toBeTruthy();
    }
    // Still answering afterwards.
    const [answer] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> still there?` }));
    expect(answer?.text).toBe('You said: Ada: still there?');
  });

  it('deletions and other message subtypes are ignored', async () => {
    h = await startHarness({ mode: 'socket' });
    for (const subtype of ['message_deleted', 'message_changed', 'bot_message', 'channel_join', 'me_message']) {
      const m = h.slack.postAsUser({ channel: 'D0DM', user: DEFAULT_USER, text: 'ignore me' });
      await h.deliver(h.slack.eventFor(m, 'message', { subtype }));
    }
    const later = await laterQuestionAnswered(h, { dm: true });
    // The later question's reply is the only message the bot posted, and its question the only one asked.
    expect(h.slack.callsOf('chat.postMessage').map((c) => [c.params.channel, c.params.thread_ts])).toEqual([['D0DM', later.ts]]);
    expect(h.slack.messages.filter((m) => m.channel === DEFAULT_CHANNEL && m.bot_id)).toHaveLength(0);
    expect(h.gateway.chatRequests).toHaveLength(1);
  });
});
