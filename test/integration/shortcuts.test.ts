/**
 * The message shortcuts (slack.md §4.2) with the real service against the
 * fakes, in both modes: "Ask Metis about this" opens a modal of Live models
 * and answers in the message's thread with the model picked; "Summarize
 * thread" posts a summary of the thread in it. The fake Slack offers only
 * the shortcuts manifest.yml declares, and delivers only its events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { manifestBotEvents, manifestShortcuts } from '../../src/ops/manifest.ts';
import { ASK_SHORTCUT, SUMMARY_SHORTCUT } from '../../src/slack/views/ask-modal.ts';
import { WORDS } from '../../src/words.ts';
import { assertShortcut, assertSubscribed } from '../fakes/slack-manifest.ts';
import { answerJobId } from '../../src/queue/answer-job.ts';
import { BOT_TOKEN, BOT_USER_ID, type FakeMessage, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

type Chat = { role: string; content: string }[];
const lastChat = () => (h.gateway.chatRequests.at(-1)?.body.messages ?? []) as Chat;

/** The request a shortcut made is answered like a message posted at its action_ts in the thread. */
const asRequest = (m: FakeMessage, actionTs: string, threadTs: string): FakeMessage => ({ ...m, ts: actionTs, thread_ts: threadTs });

/** A thread of Bob's with a reply of his, after one answered question (so the model list is known). */
async function bobsThread(): Promise<{ root: FakeMessage; reply: FakeMessage }> {
  await h.reply(await h.mention({ channel: 'C0WARM', text: `<@${BOT_USER_ID}> warm up` }));
  h.slack.setUserName('U0BOB', 'Bob');
  const root = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0BOB', text: 'the job died at step 400' });
  const reply = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0BOB', text: 'log says: bus error in MPI_Allreduce', thread_ts: root.ts });
  return { root, reply };
}

describe.each(['socket', 'http'] as const)('message shortcuts in %s mode', (mode) => {
  it('"Ask Metis about this" opens a modal of Live models; the answer goes in the message\'s thread, from the model picked', async () => {
    h = await startHarness({ mode });
    const { root, reply } = await bobsThread();
    const used = await h.slack.sendShortcut(h.interactive, { callbackId: ASK_SHORTCUT, message: reply });
    if (used.status !== undefined) expect(used.status).toBe(200);
    const view = await waitFor(() => h.slack.views.at(-1), 'the modal');
    expect(view.user).toBe(DEFAULT_USER);
    const menu = (view.view.blocks as { block_id?: string; element?: { options?: { value: string }[] } }[]).find((b) => b.block_id === 'model');
    expect(menu?.element?.options?.map((o) => o.value).sort()).toEqual(['Meta-Llama-3.1-8B-Instruct', 'Meta-Llama-3.3-70B-Instruct', 'gpt-oss-120b']);

    const submitted = await h.slack.submitView(h.interactive, view, { question: 'what causes this?', model: 'Meta-Llama-3.3-70B-Instruct' });
    expect(submitted.body.response_action).toBeUndefined(); // the modal closes
    const [answer, ...more] = await h.reply(asRequest(reply, used.actionTs, root.ts));
    expect(more).toHaveLength(0);
    expect(answer?.thread_ts).toBe(root.ts);
    expect(answer?.metadata?.event_type).toBe('metis_answer');
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('Meta-Llama-3.3-70B-Instruct'); // not the first Live one, the default
    const asked = lastChat().at(-1)?.content ?? '';
    expect(asked).toContain('Ada: what causes this?');
    expect(asked).toContain('The message this is about, from @Bob:');
    expect(asked).toContain('log says: bus error in MPI_Allreduce');
    expect(lastChat()[1]?.content).toBe('Bob: the job died at step 400'); // the thread is context
  });

  it('"Summarize thread" posts a summary of the thread in it, the whole thread as context', async () => {
    h = await startHarness({ mode });
    const { root } = await bobsThread();
    h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: 'try a smaller message size', thread_ts: root.ts });
    // Used on the root: the thread is the root's.
    const used = await h.slack.sendShortcut(h.interactive, { callbackId: SUMMARY_SHORTCUT, message: root });
    const [summary] = await h.reply(asRequest(root, used.actionTs, root.ts));
    expect(summary?.thread_ts).toBe(root.ts);
    expect(lastChat().map((m) => m.content)).toEqual([
      expect.any(String),
      'Bob: the job died at step 400',
      'Bob: log says: bus error in MPI_Allreduce',
      'Ada: try a smaller message size',
      `Ada: ${WORDS.summary_instruction()}`,
    ]);
  });
});

describe('message shortcuts', () => {
  it('used on a reply, "Summarize thread" summarizes its whole thread; the person who asked can follow up', async () => {
    h = await startHarness({ mode: 'socket' });
    const { root, reply } = await bobsThread();
    const used = await h.slack.sendShortcut(h.interactive, { callbackId: SUMMARY_SHORTCUT, message: reply });
    const [summary] = await h.reply(asRequest(reply, used.actionTs, root.ts));
    expect(summary?.thread_ts).toBe(root.ts);
    expect(lastChat().map((m) => m.content)).toContain('Bob: the job died at step 400');
    const follow = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: 'shorter, please', thread_ts: root.ts });
    await h.deliver(h.slack.eventFor(follow, 'message'));
    expect((await h.reply(follow))[0]?.text).toBe('You said: Ada: shorter, please');
  });

  it('the modal says what is wrong: a blank question, a message that is gone; asked twice, it answers twice', async () => {
    h = await startHarness({ mode: 'socket' });
    const { root, reply } = await bobsThread();
    const first = await h.slack.sendShortcut(h.interactive, { callbackId: ASK_SHORTCUT, message: reply });
    const view = await waitFor(() => h.slack.views[0], 'the modal');
    // As in Slack, a trigger id opens one view, and only one the fake issued.
    const viewsOpen = (triggerId: string) =>
      fetch(`${h.slack.apiUrl}views.open`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ trigger_id: triggerId, view: view.view }) }).then((r) => r.json());
    expect(await viewsOpen(first.triggerId)).toMatchObject({ ok: false, error: 'exchanged_trigger_id' });
    expect(await viewsOpen('1700000000.forged')).toMatchObject({ ok: false, error: 'invalid_trigger_id' });
    const blank = await h.slack.submitView(h.interactive, view, { question: '   ' });
    expect(blank.body).toEqual({ response_action: 'errors', errors: { question: WORDS.ask_question_missing() } });
    await h.slack.submitView(h.interactive, view, { question: 'first question', model: 'gpt-oss-120b' });
    await h.reply(asRequest(reply, first.actionTs, root.ts));

    // The same message asked about again is a new request; with no model picked, the thread keeps the one picked before.
    const second = await h.slack.sendShortcut(h.interactive, { callbackId: ASK_SHORTCUT, message: reply });
    const again = await waitFor(() => h.slack.views[1], 'the second modal');
    await h.slack.submitView(h.interactive, again, { question: 'second question' });
    await h.reply(asRequest(reply, second.actionTs, root.ts));
    expect(h.slack.botReplies(DEFAULT_CHANNEL, root.ts)).toHaveLength(2);
    expect(lastChat().at(-1)?.content).toContain('Ada: second question');
    expect(h.gateway.chatRequests.map((c) => c.model).slice(-2)).toEqual(['gpt-oss-120b', 'gpt-oss-120b']);

    await h.slack.sendShortcut(h.interactive, { callbackId: ASK_SHORTCUT, message: reply });
    const third = await waitFor(() => h.slack.views[2], 'the third modal');
    h.slack.deleteMessage(DEFAULT_CHANNEL, reply.ts);
    const gone = await h.slack.submitView(h.interactive, third, { question: 'still there?' });
    expect(gone.body).toEqual({ response_action: 'errors', errors: { question: WORDS.shortcut_message_gone() } });
    h.slack.setChannelGone(DEFAULT_CHANNEL, 'not_in_channel');
    const out = await h.slack.submitView(h.interactive, third, { question: 'still there?' });
    expect(out.body).toEqual({ response_action: 'errors', errors: { question: WORDS.shortcut_not_in_channel() } });
    expect(h.gateway.chatRequests).toHaveLength(3);
  });
});

describe('message shortcuts and the allow lists', () => {
  it('someone the allow lists refuse gets the refusal, in the thread, and no answer', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: DEFAULT_USER } });
    const { root } = await bobsThread();
    const used = await h.slack.sendShortcut(h.interactive, { callbackId: SUMMARY_SHORTCUT, message: root, user: 'U0NOPE' });
    const refusal = await waitFor(() => h.slack.ephemerals.find((e) => e.user === 'U0NOPE'), 'the refusal');
    expect(refusal.text).toContain("I'm not set up to answer you");
    expect(h.slack.botReplies(DEFAULT_CHANNEL, root.ts)).toHaveLength(0);
    expect(h.gateway.chatRequests).toHaveLength(1); // the warm-up question only
    expect(Number(used.actionTs)).toBeGreaterThan(Number(root.ts));
  });

  it('"Summarize thread" in a channel the bot is not in says so, to that person only', async () => {
    h = await startHarness({ mode: 'socket' });
    const { root } = await bobsThread();
    h.slack.setChannelGone(DEFAULT_CHANNEL, 'not_in_channel');
    const used = await h.slack.sendShortcut(h.interactive, { callbackId: SUMMARY_SHORTCUT, message: root });
    const told = await waitFor(() => h.slack.responses.find((r) => r.url === used.responseUrl), 'the answer through response_url');
    expect(told.body).toMatchObject({ response_type: 'ephemeral', text: WORDS.shortcut_not_in_channel() });
    expect(await h.redis.exists(`${h.prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: DEFAULT_CHANNEL, ts: used.actionTs })}`)).toBe(0);
  });
});

describe('what the fake Slack holds the bot to (manifest.yml)', () => {
  it('declares the two message shortcuts and the thread events, and nothing else is sent', () => {
    const yaml = `features:\n  shortcuts:\n    - name: A\n      type: message\n      callback_id: a_1   # note\n      description: "x: y"\n    - name: B\n      type: global\n      callback_id: b\n  slash_commands:\n    - command: /x\nsettings:\n  event_subscriptions:\n    bot_events:\n      - app_mention\n      - message.channels\n`;
    expect(manifestShortcuts(yaml)).toEqual([
      { name: 'A', type: 'message', callback_id: 'a_1', description: 'x: y' },
      { name: 'B', type: 'global', callback_id: 'b' },
    ]);
    expect(manifestBotEvents(yaml)).toEqual(['app_mention', 'message.channels']);
    expect(() => assertShortcut(ASK_SHORTCUT, ['commands'])).not.toThrow();
    expect(() => assertShortcut(SUMMARY_SHORTCUT, ['commands'])).not.toThrow();
    expect(() => assertShortcut('metis_unknown', ['commands'])).toThrow(/features.shortcuts/);
    expect(() => assertShortcut(ASK_SHORTCUT, ['chat:write'])).toThrow(/commands scope/);
    const event = (e: Record<string, unknown>) => ({ type: 'event_callback', event: e });
    expect(() => assertSubscribed(event({ type: 'message', channel_type: 'group' }))).not.toThrow();
    expect(() => assertSubscribed(event({ type: 'message', channel_type: 'mpim' }))).toThrow(/message.mpim/);
    expect(() => assertSubscribed(event({ type: 'reaction_added' }))).toThrow(/reaction_added/);
  });
});
