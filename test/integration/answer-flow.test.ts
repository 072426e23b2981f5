/**
 * The whole path a question takes — Slack event → queue → gateway → Slack
 * thread — with the real service against the fakes, in both Socket Mode and
 * HTTP mode.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerJobId } from '../../src/queue/answer-job.ts';
import { BOT_USER_ID, TEAM_ID } from '../fakes/slack.ts';
import { laterQuestionAnswered } from '../helpers/barrier.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { waitFor } from '../helpers/wait.ts';

const fenceCount = (t: string) => t.split('\n').filter((l) => /^\s{0,3}```/.test(l)).length;

describe.each(['socket', 'http'] as const)('answering in %s mode', (mode) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ mode });
  });
  afterEach(async () => {
    await expectNoSecretsLeaked(h);
    await h.stop();
  });

  it('answers a mention in its thread, streaming into one message', async () => {
    h.gateway.setReply(() => 'RDMA lets one machine read another machine\'s memory without involving its CPU.');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> what is RDMA?` });
    const [answer, ...more] = await h.reply(q);
    expect(more).toHaveLength(0);
    expect(answer?.thread_ts).toBe(q.ts);
    expect(answer?.text).toBe('RDMA lets one machine read another machine\'s memory without involving its CPU.');
    expect(answer?.markdown).toBe(true);
    expect(answer?.metadata?.event_type).toBe('metis_answer');
    // A placeholder came first, then edits: the answer was streamed, not posted at once.
    expect(answer?.edits).toBeGreaterThanOrEqual(1);
    const chat = h.gateway.chatRequests.at(-1);
    expect(chat?.body.stream).toBe(true);
    expect(chat?.body.messages.at(-1)).toEqual({ role: 'user', content: 'Ada: what is RDMA?' });
    expect(chat?.authorization).toBe('Bearer valid-token');
    // Slack described the asker once: the allow-list check's users.info named them for the model too.
    expect(h.slack.callsOf('users.info')).toHaveLength(1);
  });

  it('uses the first Live model when none is named', async () => {
    const q = await h.mention({ text: `<@${BOT_USER_ID}> hello` });
    await h.reply(q);
    const live = h.gateway.chatRequests.at(-1)?.model;
    const jobs = (await (await fetch(`${h.gateway.url}/metis/jobs`, { headers: { Authorization: 'Bearer valid-token' } })).json()) as { running: { Models: string }[] };
    const liveNames = jobs.running.map((j) => j.Models).sort();
    expect(live).toBe(liveNames[0]);
  });

  it('answers a DM in its thread', async () => {
    const q = await h.dm({ text: 'hi from a DM' });
    const [answer] = await h.reply(q);
    expect(answer?.channel).toBe('D0DM');
    expect(answer?.thread_ts).toBe(q.ts);
    expect(answer?.text).toBe('You said: Ada: hi from a DM');
  });

  it('sends the thread as context, in order, with roles and speakers', async () => {
    h.slack.setUserName('U0BOB', 'Bob');
    const root = await h.mention({ text: `<@${BOT_USER_ID}> name a fast interconnect` });
    await h.reply(root);
    h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0BOB', text: 'I think <@U0HUMAN> means &lt;InfiniBand&gt;', thread_ts: root.ts });
    const follow = await h.mention({ text: `<@${BOT_USER_ID}> and how fast is it?`, thread_ts: root.ts });
    await h.reply(follow);
    const messages = (h.gateway.chatRequests.at(-1)?.body.messages ?? []) as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'user']);
    expect(messages[1]?.content).toBe('Ada: name a fast interconnect');
    expect(messages[2]?.content).toBe('You said: Ada: name a fast interconnect');
    expect(messages[3]?.content).toBe('Bob: I think @Ada means <InfiniBand>');
    expect(messages[4]?.content).toBe('Ada: and how fast is it?');
  });

  it("trims the oldest context first to the model's window", async () => {
    await h.stop();
    // 2,000 tokens, of which 1,024 are kept for the answer.
    h = await startHarness({ mode, env: { METIS_MODEL_CONTEXT_TOKENS: 'Meta-Llama-3.1-8B-Instruct=2000' } });
    const root = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `OLDEST ${'x'.repeat(400)}` });
    h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `MIDDLE ${'y'.repeat(300)}`, thread_ts: root.ts });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> latest`, thread_ts: root.ts });
    await h.reply(q);
    const contents = ((h.gateway.chatRequests.at(-1)?.body.messages ?? []) as { content: string }[]).map((m) => m.content).join('\n');
    expect(contents).toContain('MIDDLE');
    expect(contents).not.toContain('OLDEST');
    expect(contents).toContain('Ada: latest');
  });

  it('picks a model by exact name or unique fragment', async () => {
    const exact = await h.mention({ text: `<@${BOT_USER_ID}> -m Meta-Llama-3.1-8B-Instruct hi` });
    await h.reply(exact);
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('Meta-Llama-3.1-8B-Instruct');
    const fragment = await h.mention({ text: `<@${BOT_USER_ID}> --model 70B hi` });
    await h.reply(fragment);
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('Meta-Llama-3.3-70B-Instruct');
  });

  it('names the choices for an unknown or ambiguous model, and asks the gateway nothing', async () => {
    const unknown = await h.mention({ text: `<@${BOT_USER_ID}> -m mixtral hi` });
    const [u] = await h.reply(unknown);
    expect(u?.text).toContain('There is no model matching `mixtral`');
    expect(u?.text).toContain('`Meta-Llama-3.3-70B-Instruct`');
    const ambiguous = await h.mention({ text: `<@${BOT_USER_ID}> -m llama hi` });
    const [a] = await h.reply(ambiguous);
    expect(a?.text).toContain('matches several models');
    expect(a?.text).toContain('`Meta-Llama-3.1-8B-Instruct`');
    expect(h.gateway.chatRequests).toHaveLength(0);
  });

  it('replies to an empty mention with usage help and asks the gateway nothing', async () => {
    const q = await h.mention({ text: `<@${BOT_USER_ID}>   ` });
    const [usage] = await h.reply(q);
    expect(usage?.text).toContain('@metis <your question>');
    expect(usage?.metadata?.event_type).toBe('metis_notice');
    expect(h.gateway.requests.filter((r) => r.path.includes('chat'))).toHaveLength(0);
  });

  it('answers a redelivered event once, whether the retry comes at once or after the answer', async () => {
    const m = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `<@${BOT_USER_ID}> once please` });
    const event = h.slack.eventFor(m, 'app_mention');
    await h.deliver(event);
    await h.deliver(event, { retry: 1 });
    await h.reply(m);
    await h.deliver(event, { retry: 2 });
    await laterQuestionAnswered(h);
    expect(h.slack.botReplies(DEFAULT_CHANNEL, m.ts)).toHaveLength(1);
    expect(h.gateway.chatRequests).toHaveLength(2); // the question's, and the later one's
  });

  it('ignores its own messages, other bots, and edits', async () => {
    const own = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: BOT_USER_ID, text: `<@${BOT_USER_ID}> me` });
    await h.deliver(h.slack.eventFor(own, 'app_mention'));
    const bot = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0OTHER', bot_id: 'B0OTHER', text: `<@${BOT_USER_ID}> bot here` });
    await h.deliver(h.slack.eventFor(bot, 'app_mention'));
    const human = h.slack.postAsUser({ channel: 'D0DM', user: 'U0HUMAN', text: 'edited text' });
    await h.deliver(h.slack.eventFor(human, 'message', { subtype: 'message_changed' }));
    const later = await laterQuestionAnswered(h);
    // The later question's reply is the only message the bot posted, and its question the only one asked.
    expect(h.slack.callsOf('chat.postMessage').map((c) => c.params.thread_ts)).toEqual([later.ts]);
    expect(h.gateway.chatRequests).toHaveLength(1);
  });

  it('splits a long answer into messages without breaking code blocks', async () => {
    await h.stop();
    h = await startHarness({ mode, env: { METIS_SLACK_MESSAGE_MAX_CHARS: '1500' } });
    const code = Array.from({ length: 120 }, (_, i) => `    result_${i} = compute(${i})  # step ${i}`).join('\n');
    const long = `Intro paragraph.\n\n\`\`\`python\n${code}\n\`\`\`\n\nClosing words.`;
    h.gateway.setReply(() => long);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> write a long script` });
    const replies = await h.reply(q, { timeoutMs: 15_000 });
    await waitFor(() => h.slack.botReplies(DEFAULT_CHANNEL, q.ts).every((m) => m.metadata?.event_type === 'metis_answer'), 'all parts final');
    const parts = h.slack.botReplies(DEFAULT_CHANNEL, q.ts);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.text.length).toBeLessThanOrEqual(1500);
      expect(fenceCount(p.text) % 2).toBe(0);
    }
    // Apart from the fences added at each cut, the parts carry exactly the answer.
    const normalize = (t: string) => t.replace(/```(python)?/g, '').replace(/\s+/g, '');
    expect(normalize(parts.map((p) => p.text).join(''))).toBe(normalize(long));
    for (const p of parts) expect(p.text.endsWith('…')).toBe(false);
    expect(replies.length).toBe(parts.length);
  });

  it('hides DeepSeek-R1 reasoning from the answer', async () => {
    h.gateway.setStatus('DeepSeek-R1', 'Live');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek why is the sky blue?` });
    const [answer] = await h.reply(q);
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('DeepSeek-R1');
    expect(answer?.text).not.toMatch(/think/i);
    expect(answer?.text).toBe('You said: Ada: why is the sky blue?');
  });
});

describe('HTTP mode request checks', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ mode: 'http' });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('rejects a bad, missing or stale signature with no side effects', async () => {
    const m = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `<@${BOT_USER_ID}> sneaky` });
    const url = `http://127.0.0.1:${h.service.port}/slack/events`;
    const body = h.slack.eventFor(m, 'app_mention');
    expect((await h.slack.sendHttpEvent(url, body, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await h.slack.sendHttpEvent(url, body, { signature: '' })).status).toBe(401);
    expect((await h.slack.sendHttpEvent(url, body, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    const later = await laterQuestionAnswered(h);
    // Only the later, signed question left a job, a reply and a gateway request.
    expect(await h.redis.keys(`${h.prefix}:answers:msg-*`)).toEqual([`${h.prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: later.channel, ts: later.ts })}`]);
    expect(h.slack.callsOf('chat.postMessage').map((c) => c.params.thread_ts)).toEqual([later.ts]);
    expect(h.gateway.chatRequests).toHaveLength(1);
  });

  it('serves /healthz and nothing undocumented', async () => {
    const base = `http://127.0.0.1:${h.service.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', redis: 'ready' });
    expect((await fetch(`${base}/admin`)).status).toBe(404);
  });
});
