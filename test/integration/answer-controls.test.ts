/**
 * What a person can do with an answer, through the real service against the
 * fakes: stop it while it is written (its Stop button, or Slack's own stop),
 * ask again with the same or another model, and rate it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/main.ts';
import { STATUS_GRACE_MS, STATUS_REFRESH_MS } from '../../src/reply/thread-status.ts';
import { STATUS_TIMEOUT_MS } from '../fakes/slack-assistant.ts';
import { laterQuestionAnswered } from '../helpers/barrier.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { gate, waitFor } from '../helpers/wait.ts';

const ADMIN = 'U0ADMIN';

/** The bot's answer message in the thread of `q` once it shows some text and a button with `actionId`. */
function answerWith(h: Harness, q: FakeMessage, actionId: string): FakeMessage | undefined {
  return h.slack.botReplies(q.channel, q.thread_ts ?? q.ts).find((m) => JSON.stringify(m.blocks ?? []).includes(`"action_id":"${actionId}"`));
}

/** The element of a message's blocks with `actionId` (a button, a menu, Slack's feedback buttons). */
function elementOf(m: FakeMessage, actionId: string): Record<string, any> {
  const elements = (m.blocks ?? []).flatMap((b) => ((b as { elements?: Record<string, any>[] }).elements ?? []));
  const found = elements.find((e) => e.action_id === actionId);
  if (!found) throw new Error(`no ${actionId} on the message`);
  return found;
}

/** The value a message's button carries for `actionId`. */
const buttonValue = (m: FakeMessage, actionId: string): string => elementOf(m, actionId).value;

describe.each(['socket', 'http'] as const)('stopping an answer (%s mode)', (mode) => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  /** Asks a question whose answer streams a few words and then hangs, and waits for the Stop button on it. */
  async function answerInProgress(): Promise<{ q: FakeMessage; answer: FakeMessage }> {
    h.gateway.setReply(() => 'Partial words that keep coming and never end because the model hangs here.');
    h.gateway.injectChatFault({ kind: 'stall', afterChunks: 4 });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> tell me a long story` });
    const harness = h;
    const answer = await waitFor(() => {
      const a = answerWith(harness, q, 'stop_answer');
      return a?.text.startsWith('Par') ? a : undefined;
    }, 'the answer in progress with its Stop button');
    return { q, answer };
  }

  it('Stop closes the gateway request at once, keeps the text marked stopped, and is counted', async () => {
    h = await startHarness({ mode });
    const { q, answer } = await answerInProgress();
    const clickedAt = Date.now();
    await h.click('stop_answer', buttonValue(answer, 'stop_answer'), { messageTs: answer.ts });
    const harness = h;
    const closedAt = await waitFor(() => harness.gateway.chatRequests[0]?.clientClosedAt, 'the gateway to see its connection closed', 5_000);
    // At once, not at the stream's idle timeout (minutes): how soon exactly is the benchmark's to measure.
    expect(closedAt - clickedAt).toBeLessThan(3_000);
    const [final] = await h.reply(q);
    expect(final?.text).toMatch(/^Par/);
    expect(final?.text).toContain('Stopped.');
    expect(final?.metadata?.event_type).toBe('metis_answer');
    expect(JSON.stringify(final?.blocks)).not.toContain('stop_answer');
    const audit = await h.redis.xrevrange(`${h.prefix}:audit`, '+', '-', 'COUNT', 1);
    expect(audit[0]?.[1]).toEqual(expect.arrayContaining(['outcome', 'stopped']));
    // Usage counts are written together within a second.
    const harness2 = h;
    const usage = await waitFor(async () => {
      const u = await harness2.redis.hgetall(`${harness2.prefix}:usage:${new Date().toISOString().slice(0, 10)}`);
      return u['all:stopped'] ? u : undefined;
    }, 'the usage counts written');
    expect(usage['all:stopped']).toBe('1');
    expect(usage['all:requests']).toBe('1');
    // A follow-up sends the stopped text back as the model's words, without the bot's mark.
    const follow = await h.mention({ text: `<@${BOT_USER_ID}> go on`, thread_ts: q.ts });
    await h.reply(follow);
    const messages = h.gateway.chatRequests.at(-1)?.body.messages as { role: string; content: string }[];
    expect(messages.find((m) => m.role === 'assistant')?.content).toBe(final?.text.replace(/\s*:black_square_for_stop:.*$/s, ''));
  });

  it("refuses someone else's Stop, and lets an admin stop it", async () => {
    h = await startHarness({ mode, env: { METIS_ADMIN_USERS: ADMIN } });
    const { q, answer } = await answerInProgress();
    const other = await h.click('stop_answer', buttonValue(answer, 'stop_answer'), { user: 'U0OTHER', messageTs: answer.ts });
    const harness = h;
    const refusal = await waitFor(() => harness.slack.responses.find((r) => r.url === other.responseUrl), 'the refusal');
    expect(String(refusal.body.text)).toContain('Only <@U0HUMAN>');
    expect(h.gateway.chatRequests[0]?.clientClosedAt).toBeUndefined();
    await h.click('stop_answer', buttonValue(answer, 'stop_answer'), { user: ADMIN, messageTs: answer.ts });
    const [final] = await h.reply(q);
    expect(final?.text).toContain('Stopped by an administrator.');
    expect(h.gateway.chatRequests[0]?.clientClosedAt).toBeDefined();
  });

  it("Slack's own stop (agent_session_stopped) stops it the same way, whichever process runs it", async () => {
    // The listener and the worker as separate services (as in separate processes): the stop crosses Redis.
    h = await startHarness({ mode, role: 'listener' });
    const config = loadConfig(h.env);
    const worker = await startService(config, { role: 'worker', logger: capturedLogger(config.logLevel).logger });
    try {
      const { q, answer } = await answerInProgress();
      const clickedAt = Date.now();
      const event = h.slack.eventFor(q, 'message');
      await h.deliver({ ...event, event: { type: 'agent_session_stopped', user: 'U0HUMAN', channel: q.channel, streaming_message_ts: [answer.ts], event_ts: String(Date.now() / 1000) } });
      const harness = h;
      const closedAt = await waitFor(() => harness.gateway.chatRequests[0]?.clientClosedAt, 'the gateway to see its connection closed', 5_000);
      // At once, not at the stream's idle timeout (minutes): how soon exactly is the benchmark's to measure.
      expect(closedAt - clickedAt).toBeLessThan(3_000);
      const [final] = await h.reply(q);
      expect(final?.text).toContain('Stopped.');
    } finally {
      await worker.stop();
    }
  });
});

describe("Slack's thread status while an answer is awaited", () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('is set while waiting, refreshed before its 2-minute timeout, and cleared when the text starts', async () => {
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock });
    // No text comes: the status stays up, and must be refreshed.
    h.gateway.injectChatFault({ kind: 'stall', afterChunks: 0 });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> slow one` });
    const harness = h;
    const asking = () => harness.slack.assistant.statusCallsIn(q.channel, q.ts).filter((c) => c.status === 'asking Meta-Llama-3.1-8B-Instruct…');
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the question to be asked');
    expect(asking()).toHaveLength(0); // a first status waits out its grace
    clock.advance(STATUS_GRACE_MS);
    await waitFor(() => asking().length === 1, 'the status naming the model');
    expect(asking()[0]?.loading).toEqual(['asking Meta-Llama-3.1-8B-Instruct…']);
    clock.advance(STATUS_REFRESH_MS);
    expect(STATUS_REFRESH_MS).toBeLessThan(STATUS_TIMEOUT_MS);
    await waitFor(() => asking().length === 2, 'the status set again before Slack clears it');
    // Stopped, it is cleared and refreshed no more.
    const answer = await waitFor(() => answerWith(harness, q, 'stop_answer'), 'the Stop button');
    await h.click('stop_answer', buttonValue(answer, 'stop_answer'), { messageTs: answer.ts });
    await h.reply(q);
    expect(h.slack.assistant.statusCallsIn(q.channel, q.ts).at(-1)?.status).toBe('');
    const calls = h.slack.assistant.statusCallsIn(q.channel, q.ts).length;
    clock.advance(3 * STATUS_REFRESH_MS);
    await laterQuestionAnswered(h);
    expect(h.slack.assistant.statusCallsIn(q.channel, q.ts)).toHaveLength(calls);
  });

  it('is cleared before the answer text is shown, and set a handful of times, not per token', async () => {
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock });
    h.gateway.setReply(() => 'word '.repeat(200));
    const { opened: answerHeld, open: answerNow } = gate();
    h.gateway.injectChatFault({ kind: 'hold', until: answerHeld });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> many words` });
    const harness = h;
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the question to be asked');
    clock.advance(STATUS_GRACE_MS); // the model is slower than the status's grace
    await waitFor(() => harness.slack.assistant.statusCallsIn(q.channel, q.ts).length === 1, 'the status');
    answerNow();
    await h.reply(q);
    const statuses = h.slack.assistant.statusCallsIn(q.channel, q.ts).map((c) => c.status);
    expect(statuses).toEqual(['asking Meta-Llama-3.1-8B-Instruct…', '']);
    const methods = h.slack.calls.map((c) => (c.method === 'assistant.threads.setStatus' ? `status:${c.params.status}` : c.method));
    const cleared = methods.indexOf('status:');
    const firstText = h.slack.calls.findIndex((c) => c.method === 'chat.update' && JSON.stringify(c.params.blocks ?? '').includes('word'));
    expect(cleared).toBeGreaterThan(-1);
    expect(firstText).toBeGreaterThan(cleared);
  });

  it('is not shown at all for an answer that starts within its grace', async () => {
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> quick one` });
    await h.reply(q);
    clock.advance(STATUS_GRACE_MS);
    await laterQuestionAnswered(h);
    expect(h.slack.callsOf('assistant.threads.setStatus')).toHaveLength(0);
  });

  it('says how many questions are ahead while one waits for a worker, and why a parked one waits', async () => {
    h = await startHarness({ mode: 'socket', env: { WORKER_CONCURRENCY: '1' } });
    h.gateway.injectChatFault({ kind: 'stall', afterChunks: 0 });
    const first = await h.mention({ text: `<@${BOT_USER_ID}> first` });
    const harness = h;
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the first question to be asked');
    const second = await h.mention({ text: `<@${BOT_USER_ID}> second` });
    const third = await h.mention({ text: `<@${BOT_USER_ID}> third` });
    await waitFor(() => harness.slack.assistant.statusCallsIn(third.channel, third.ts).length > 0, "the third question's status");
    expect(h.slack.assistant.statusCallsIn(third.channel, third.ts)[0]?.status).toBe('1 question ahead');
    const answer = await waitFor(() => answerWith(harness, first, 'stop_answer'), 'the Stop button');
    await h.click('stop_answer', buttonValue(answer, 'stop_answer'), { messageTs: answer.ts });
    await h.reply(second);
    await h.reply(third);
    const parked = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek hi` });
    await waitFor(() => harness.slack.assistant.statusCallsIn(parked.channel, parked.ts).some((c) => c.status.startsWith('DeepSeek-R1 is Starting')), 'the parked status');
  });

  it('past the fleet budget, answers go without one, and no status is left up over an answer', async () => {
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock, env: { WORKER_CONCURRENCY: '8', METIS_USER_CONCURRENCY: '0', METIS_SLACK_STATUS_PER_MINUTE: '3' } });
    // The first eight are slower than a status's grace, so each of them wants one.
    const { opened: held, open: answerNow } = gate();
    for (let i = 0; i < 8; i++) h.gateway.injectChatFault({ kind: 'hold', until: held });
    const questions = await Promise.all(Array.from({ length: 20 }, (_, i) => h.mention({ text: `<@${BOT_USER_ID}> question ${i}` })));
    const harness = h;
    await waitFor(() => harness.gateway.chatRequests.length === 8, 'eight questions asked');
    clock.advance(STATUS_GRACE_MS);
    // The budget counts per clock minute: a run that spans the turn of a minute may use two minutes' worth.
    await waitFor(() => harness.slack.assistant.statusCalls.length >= 3, 'the statuses the budget allows');
    answerNow();
    for (const q of questions) await h.reply(q, { timeoutMs: 30_000 });
    const sets = h.slack.assistant.statusCalls.filter((c) => c.status !== '');
    expect(sets.length).toBeLessThanOrEqual(6);
    for (const q of questions) expect(h.slack.assistant.statusCallsIn(q.channel, q.ts).at(-1)?.status ?? '').toBe('');
  });

  it('refused by Slack, is given up for that answer while the placeholder carries on', async () => {
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock });
    h.slack.failNext('assistant.threads.setStatus', { error: 'not_allowed_token_type' });
    const { opened: answerHeld, open: answerNow } = gate();
    h.gateway.injectChatFault({ kind: 'hold', until: answerHeld });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> hello` });
    const harness = h;
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the question to be asked');
    clock.advance(STATUS_GRACE_MS);
    await waitFor(() => harness.slack.callsOf('assistant.threads.setStatus').length === 1, 'the refused status');
    answerNow();
    const [answer] = await h.reply(q);
    expect(answer?.text).toBe('You said: Ada: hello');
    expect(h.slack.callsOf('assistant.threads.setStatus')).toHaveLength(1);
    const placeholder = h.slack.callsOf('chat.postMessage')[0];
    expect(JSON.stringify(placeholder?.params.blocks)).toContain('Working on it');
  });
});

describe('a finished answer', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('offers feedback buttons; a rating is recorded with its model and request, once per person, and counted in /metis admin', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_ADMIN_USERS: ADMIN } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b rate me` });
    const [answer] = await h.reply(q);
    if (!answer) throw new Error('no answer');
    const buttons = elementOf(answer, 'answer_feedback');
    expect(buttons.type).toBe('feedback_buttons');
    const up = buttons.positive_button.value as string;
    const down = buttons.negative_button.value as string;
    const harness = h;
    const clickAndWait = async (value: string, user = 'U0HUMAN') => {
      const r = await harness.click('answer_feedback', value, { kind: 'feedback_buttons', messageTs: answer.ts, user });
      return waitFor(() => harness.slack.responses.find((x) => x.url === r.responseUrl), 'the answer to the click');
    };
    expect(String((await clickAndWait(up)).body.text)).toContain('Thanks');
    await clickAndWait(up); // the same person again: counted once
    await clickAndWait(down, 'U0BOB');
    const admin = await h.command('/metis', 'admin', { user: ADMIN });
    expect(String(admin.body.text)).toContain('`Meta-Llama-3.3-70B-Instruct` :+1: 1 :-1: 1');
    // A changed mind moves the count.
    await clickAndWait(down);
    const again = await h.command('/metis', 'admin', { user: ADMIN });
    expect(String(again.body.text)).toContain('`Meta-Llama-3.3-70B-Instruct` :+1: 0 :-1: 2');
    // The admins' Home tab shows the same counts.
    await h.deliver({ ...h.slack.eventFor(q, 'message'), event: { type: 'app_home_opened', user: ADMIN, channel: 'D0ADMIN', tab: 'home', event_ts: '1' } });
    const home = await waitFor(() => harness.slack.homeViews.get(ADMIN), 'the admin Home tab');
    expect(JSON.stringify(home)).toContain('`Meta-Llama-3.3-70B-Instruct` :+1: 0 :-1: 2');
    const audit = await h.redis.xrange(`${h.prefix}:audit`, '-', '+');
    const rated = audit.map(([, f]) => f).find((f) => f.includes('feedback_up'));
    expect(rated).toEqual(expect.arrayContaining(['model', 'Meta-Llama-3.3-70B-Instruct', 'requestId', up.split('|')[0]]));
    // A crafted click naming another request on this message is refused.
    const forged = await h.click('answer_feedback', `msg-other|up|Made-Up-Model`, { kind: 'feedback_buttons', messageTs: answer.ts });
    const refusal = await waitFor(() => harness.slack.responses.find((x) => x.url === forged.responseUrl), 'the refusal');
    expect(String(refusal.body.text)).not.toContain('Thanks');
    const invented = await h.click('answer_feedback', `${up.split('|')[0]}|up|Made-Up-Model`, { kind: 'feedback_buttons', messageTs: answer.ts });
    const refused = await waitFor(() => harness.slack.responses.find((x) => x.url === invented.responseUrl), 'the refusal');
    expect(String(refused.body.text)).not.toContain('Thanks');
    expect(JSON.stringify(await h.redis.hgetall(`${h.prefix}:feedback:${new Date().toISOString().slice(0, 10)}`))).not.toContain('Made-Up');
  });

  it('regenerates with the same model, or asks another Live model, in the same thread with the same context', async () => {
    h = await startHarness({ mode: 'socket' });
    const root = await h.mention({ text: `<@${BOT_USER_ID}> start a thread` });
    await h.reply(root);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> again please`, thread_ts: root.ts });
    const [answer] = await h.reply(q);
    if (!answer) throw new Error('no answer');
    const answers = () => h.slack.botReplies(q.channel, root.ts).filter((m) => m.metadata?.event_type === 'metis_answer' && Number(m.ts) > Number(q.ts));
    const harness = h;
    const other = await h.click('regenerate_answer', buttonValue(answer, 'regenerate_answer'), { user: 'U0OTHER', messageTs: answer.ts });
    const refusal = await waitFor(() => harness.slack.responses.find((r) => r.url === other.responseUrl), 'the refusal');
    expect(String(refusal.body.text)).toContain('Only <@U0HUMAN>');

    await h.click('regenerate_answer', buttonValue(answer, 'regenerate_answer'), { messageTs: answer.ts });
    await waitFor(() => answers().length === 2 && harness.gateway.chatRequests.length === 3, 'the regenerated answer');
    const [first, again] = h.gateway.chatRequests.slice(1);
    expect(again?.model).toBe(first?.model);
    expect(again?.body.messages).toEqual(first?.body.messages); // the same turn: the thread up to the question
    const menu = elementOf(answer, 'switch_model');
    const seventy = (menu.options as { value: string }[]).find((o) => o.value.endsWith('|Meta-Llama-3.3-70B-Instruct'));
    expect((menu.options as unknown[]).length).toBe(3); // the Live models
    await h.click('switch_model', seventy?.value ?? '', { kind: 'static_select', messageTs: answer.ts });
    await waitFor(() => answers().length === 3 && harness.gateway.chatRequests.length === 4, 'the answer from another model');
    expect(h.gateway.chatRequests[3]?.model).toBe('Meta-Llama-3.3-70B-Instruct');
    expect(h.gateway.chatRequests[3]?.body.messages).toEqual(first?.body.messages);
    await waitFor(() => answers()[2]?.blocks?.some((b) => b.type === 'context_actions'), 'the new answer finished');
    expect(answers().map((m) => m.thread_ts)).toEqual([root.ts, root.ts, root.ts]);
  });
});

describe('a reasoning model', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  const everythingShown = (h: Harness) => JSON.stringify(h.slack.calls.filter((c) => c.method.startsWith('chat.')).map((c) => c.params));

  it.each([
    ['inline <think>', (g: Harness['gateway']) => g.setReply(() => `<think>${'pondering deeply '.repeat(20)}</think>The answer is 42.`)],
    [
      'reasoning_content',
      (g: Harness['gateway']) => {
        g.setReasoning(() => 'pondering deeply '.repeat(20));
        g.setReply(() => 'The answer is 42.');
      },
    ],
  ])('(%s) shows "thinking…" while it reasons, then a "thought for" line before the answer, never the reasoning', async (_kind, setUp) => {
    // Sent slowly (the reasoning takes a second or more), so the line is shown; the model starts after the status's grace.
    const clock = new ManualClock();
    h = await startHarness({ mode: 'socket', clock, gateway: { chunkDelayMs: 2 } });
    setUp(h.gateway);
    const { opened: answerHeld, open: answerNow } = gate();
    h.gateway.injectChatFault({ kind: 'hold', until: answerHeld });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> the answer?` });
    const harness = h;
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the question to be asked');
    clock.advance(STATUS_GRACE_MS);
    await waitFor(() => harness.slack.assistant.statusCallsIn(q.channel, q.ts).length === 1, 'the status');
    answerNow();
    const [answer] = await h.reply(q, { timeoutMs: 30_000 });
    expect(answer?.text).toMatch(/^_Thought for \d+ s\._\n\nThe answer is 42\.$/);
    expect(everythingShown(h)).not.toContain('pondering');
    expect(h.slack.assistant.statusCallsIn(q.channel, q.ts).map((c) => c.status)).toEqual(['asking Meta-Llama-3.1-8B-Instruct…', 'thinking…', '']);
    // The line is the bot's, not the model's: a follow-up does not send it back as the model's words.
    h.gateway.setReasoning(undefined);
    h.gateway.setReply(() => 'Because.');
    const follow = await h.mention({ text: `<@${BOT_USER_ID}> and why?`, thread_ts: q.ts });
    await h.reply(follow, { timeoutMs: 30_000 });
    const messages = h.gateway.chatRequests.at(-1)?.body.messages as { role: string; content: string }[];
    expect(messages.find((m) => m.role === 'assistant')?.content).toBe('The answer is 42.');
  });
});

describe('the Messages tab (agent_view)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('sets 1–4 suggested prompts when a person opens it, and titles a DM conversation from its first question', async () => {
    h = await startHarness({ mode: 'socket' });
    const seed = h.slack.postAsUser({ channel: 'D0DM', user: 'U0HUMAN', text: 'seed' });
    const opened = { ...h.slack.eventFor(seed, 'message'), event: { type: 'app_home_opened', user: 'U0HUMAN', channel: 'D0DM', tab: 'messages', event_ts: '1' } };
    await h.deliver(opened);
    const harness = h;
    const [set] = await waitFor(() => (harness.slack.assistant.suggestedPrompts.length ? harness.slack.assistant.suggestedPrompts : undefined), 'the suggested prompts');
    expect(set?.channel).toBe('D0DM');
    expect(set?.threadTs).toBeUndefined();
    expect(set?.prompts.length).toBeGreaterThanOrEqual(1);
    expect(set?.prompts.length).toBeLessThanOrEqual(4);
    // Opened again soon after: not set again (the tab sends an event at every opening).
    await h.deliver(opened);
    const q = await h.dm({ text: 'How do I *profile* an MPI job on <https://www.alcf.anl.gov|Polaris> with many ranks and threads?' });
    await h.reply(q);
    expect(h.slack.assistant.titles.get(`D0DM/${q.ts}`)).toBe('How do I profile an MPI job on Polaris with many ranks and…');
    expect(h.slack.assistant.suggestedPrompts).toHaveLength(1);
    // A follow-up in the conversation keeps its title.
    const follow = await h.dm({ text: 'and with GPUs?', thread_ts: q.ts });
    await h.reply(follow);
    expect(h.slack.callsOf('assistant.threads.setTitle')).toHaveLength(1);
  });

  it('an app not set up as an agent goes without, and answers as before', async () => {
    h = await startHarness({ mode: 'socket' });
    h.slack.assistant.setAgentApp(false);
    const q = await h.dm({ text: 'hello there' });
    const [answer] = await h.reply(q);
    expect(answer?.text).toBe('You said: Ada: hello there');
    expect(h.slack.assistant.titles.size).toBe(0);
  });
});
