/**
 * Models in Slack: status at a glance, choosing a model, and cold starts
 * that just work — against the fake gateway's mutable status table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answerJobId } from '../../src/queue/answer-job.ts';
import { BOT_USER_ID, type FakeMessage, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { laterQuestionAnswered } from '../helpers/barrier.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await expectNoSecretsLeaked(h);
  await h?.stop();
  h = undefined;
});

/** Short status windows, so a test can watch statuses move. */
const FAST = { METIS_MODEL_STATUS_TTL_SECONDS: '1', METIS_COLD_START_POLL_SECONDS: '1' };

const blockTexts = (body: Record<string, unknown>) =>
  ((body.blocks ?? []) as { text?: { text?: string }; elements?: { text?: string }[] }[]).map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '');

const noteIn = (harness: Harness, q: FakeMessage) => harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0];
/** The bot's first message in the thread of `q`, once its text contains `words`. */
const noteSaying = (harness: Harness, q: FakeMessage, words: string) => {
  const note = noteIn(harness, q);
  return note?.text.includes(words) ? note : undefined;
};

describe.each(['socket', 'http'] as const)('/metis-models (%s mode)', (mode) => {
  it('lists every model with its status word, Live first, with a summary, only to the asker unless public', async () => {
    h = await startHarness({
      mode,
      gateway: {
        models: [
          { name: 'alpha-live', status: 'Live', description: 'the fast one' },
          { name: 'beta-starting', status: 'Starting' },
          { name: 'gamma-queued', status: 'Queued' },
          { name: 'delta-stopped', status: 'Stopped' },
          { name: 'epsilon-live', status: 'Live' },
          // The gateway files these under `queued` too, keeping the real status in "Model Status" (§2.3).
          { name: 'zeta-offline', status: 'Offline' },
          { name: 'eta-maintenance', status: 'Maintenance' },
        ],
      },
    });
    const { body } = await h.command('/metis-models');
    expect(body.response_type).toBe('ephemeral');
    const lines = blockTexts(body);
    expect(lines[0]).toBe('*Metis models:* 2 of 7 Live');
    const order = lines.slice(1, 8).map((l) => /`([^`]+)`/.exec(l)?.[1]);
    expect(order).toEqual(['alpha-live', 'epsilon-live', 'beta-starting', 'gamma-queued', 'delta-stopped', 'eta-maintenance', 'zeta-offline']);
    expect(lines[1]).toContain('*Live*');
    expect(lines[1]).toContain('the fast one');
    expect(lines[3]).toContain('*Starting*');
    expect(lines[4]).toContain('*Queued*');
    for (const offline of lines.slice(5, 8)) expect(offline).toContain('*Offline*');
    expect((await h.command('/metis-models', 'public')).body.response_type).toBe('in_channel');
  });

  it('shows one model and how to use it', async () => {
    h = await startHarness({ mode });
    const { body } = await h.command('/metis-models', '70b');
    const text = blockTexts(body).join('\n');
    expect(text).toContain('`Meta-Llama-3.3-70B-Instruct`');
    expect(text).toMatch(/@metis -m \S+ <your question>/);
    const unknown = await h.command('/metis-models', 'nosuch');
    expect(String(unknown.body.text)).toContain('There is no model matching `nosuch`');
  });
});

describe('model status is shared and cached', () => {
  it('100 concurrent /metis-models cause one fetch per TTL', async () => {
    h = await startHarness({ mode: 'socket' });
    const harness = h;
    const fetches = () => harness.gateway.requests.filter((r) => r.path.endsWith('/list-endpoints') || r.path.endsWith('/jobs')).length;
    const answers = await Promise.all(Array.from({ length: 100 }, () => harness.command('/metis-models')));
    for (const a of answers) expect(blockTexts(a.body)[0]).toMatch(/of 5 Live/);
    expect(fetches()).toBe(2); // one list-endpoints + one jobs
    await Promise.all(Array.from({ length: 100 }, () => harness.command('/metis-models')));
    expect(fetches()).toBe(2);
  });

  it('shows the last known status with its age when the gateway cannot be reached', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    await h.command('/metis-models');
    await h.gateway.close();
    await sleep(1100);
    const { body, ackMs } = await h.command('/metis-models');
    const text = blockTexts(body).join('\n');
    expect(text).toMatch(/of 5 Live/);
    expect(text).toMatch(/Metis could not be reached just now; this is the last known status, from less than a minute ago/);
    expect(ackMs).toBeLessThan(3000);
  });

  it('shows a maintenance notice from the gateway as such', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    h.gateway.setMaintenance('Metis is down for maintenance until 5pm');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> are you there?` });
    await waitFor(() => noteIn(h as Harness, q)?.text.includes('until 5pm'), 'the maintenance note');
    expect(noteIn(h, q)?.text).toContain('Metis is under maintenance: Metis is down for maintenance until 5pm');
    const text = blockTexts((await h.command('/metis-models')).body).join('\n');
    expect(text).toContain(':construction: *Metis is under maintenance*: Metis is down for maintenance until 5pm');
    // Maintenance ends: the question is answered in the same thread.
    h.gateway.setMaintenance(undefined);
    const [answer] = await h.reply(q, { timeoutMs: 15_000 });
    expect(answer?.text).toBe('You said: Ada: are you there?');
  });
});

describe('cold starts', () => {
  it('posts a note, edits it as the status moves, then answers in it', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    h.gateway.setStatus('DeepSeek-R1', 'Queued');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek think hard` });
    const harness = h;
    const note = await waitFor(() => noteSaying(harness, q, 'is Queued on Metis'), 'the Queued note');
    expect(note.text).toContain("`DeepSeek-R1` is Queued on Metis; I'll answer here when it is Live.");
    expect(JSON.stringify(note.blocks)).toContain('cancel_wait');
    expect(h.gateway.chatRequests).toHaveLength(0);
    h.gateway.setStatus('DeepSeek-R1', 'Starting');
    await waitFor(() => noteIn(harness, q)?.text.includes('is Starting on Metis'), 'the Starting note');
    h.gateway.setStatus('DeepSeek-R1', 'Live');
    const replies = await h.reply(q, { timeoutMs: 15_000 });
    expect(replies).toHaveLength(1);
    expect(replies[0]?.ts).toBe(note.ts);
    expect(replies[0]?.text).toBe('You said: Ada: think hard');
    expect(JSON.stringify(replies[0]?.blocks)).not.toContain('cancel_wait');
  });

  it('says Offline, as ALCF does, for a model the gateway files under queued as offline', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    h.gateway.setStatus('DeepSeek-R1', 'Offline');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek wake up` });
    const harness = h;
    const note = await waitFor(() => noteSaying(harness, q, 'on Metis'), 'the waiting note');
    expect(note.text).toContain('`DeepSeek-R1` is Offline on Metis');
    expect(blockTexts((await h.command('/metis-models', 'deepseek')).body).join('\n')).toContain('*Offline*');
    h.gateway.setStatus('DeepSeek-R1', 'Live');
    expect((await h.reply(q, { timeoutMs: 15_000 }))[0]?.text).toBe('You said: Ada: wake up');
  });

  it('waits after a 503 "not live" too, then answers', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    h.gateway.injectChatFault({
      kind: 'status',
      status: 503,
      body: { error: { code: 'internal_endpoint_error', message: "'Meta-Llama-3.1-8B-Instruct' is not currently live on Metis.", info: {} } },
    });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m 8b hello` });
    const [answer] = await h.reply(q, { timeoutMs: 15_000 });
    expect(answer?.text).toBe('You said: Ada: hello');
    expect(h.gateway.chatRequests).toHaveLength(2);
  });

  it('gives up after METIS_COLD_START_TIMEOUT_SECONDS with a hint naming Live models', async () => {
    h = await startHarness({ mode: 'socket', env: { ...FAST, METIS_COLD_START_TIMEOUT_SECONDS: '2' } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek hello` });
    const [reply] = await h.reply(q, { timeoutMs: 15_000 });
    expect(reply?.text).toMatch(/`DeepSeek-R1` did not become Live on Metis within 0 min, so I stopped waiting\. Live now: .*`Meta-Llama-3\.3-70B-Instruct`/);
    expect(reply?.text).toContain('/metis-models');
    expect(h.gateway.chatRequests).toHaveLength(0);
  });

  it('can be cancelled by the asker, and only by the asker', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek never mind` });
    const harness = h;
    const note = await waitFor(() => noteSaying(harness, q, 'Starting on Metis'), 'the note');
    const jobValue = (JSON.stringify(note.blocks).match(/"value":"([^"]+)"/) ?? [])[1] as string;
    const other = await h.click('cancel_wait', jobValue, { user: 'U0OTHER', messageTs: note.ts });
    await waitFor(() => harness.slack.responses.find((r) => r.url === other.responseUrl), 'the refusal');
    expect(String(h.slack.responses.find((r) => r.url === other.responseUrl)?.body.text)).toContain('Only <@U0HUMAN>');
    await h.click('cancel_wait', jobValue, { user: 'U0HUMAN', messageTs: note.ts });
    await waitFor(() => noteIn(harness, q)?.text.includes('Cancelled by <@U0HUMAN>'), 'the cancelled note');
    h.gateway.setStatus('DeepSeek-R1', 'Live');
    // The barrier: a later question is answered and the queue has drained, so a wait the cancel had left
    // parked would have woken, found the model Live and asked it by now.
    await laterQuestionAnswered(h);
    expect(h.gateway.chatRequests.map((r) => r.model)).toEqual(['Meta-Llama-3.1-8B-Instruct']); // the later question's, on the default model
    expect(noteIn(h, q)?.metadata?.event_type).toBe('metis_notice');
    expect(noteIn(h, q)?.text).toContain('Cancelled by <@U0HUMAN>');
  });

  it('a cancelled wait gives back its turn: the asker\'s next question is not put behind it', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek never mind` });
    const harness = h;
    const note = await waitFor(() => noteSaying(harness, q, 'Starting on Metis'), 'the note');
    const jobValue = (JSON.stringify(note.blocks).match(/"value":"([^"]+)"/) ?? [])[1] as string;
    await h.click('cancel_wait', jobValue, { user: 'U0HUMAN', messageTs: note.ts });
    await waitFor(() => noteIn(harness, q)?.text.includes('Cancelled by <@U0HUMAN>'), 'the cancelled note');
    const next = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b and now?` });
    expect((await h.reply(next))[0]?.text).toBe('You said: Ada: and now?');
    // Queue priority is the asker's count of questions pending: 1 again, as for a first question, which goes to
    // BullMQ's plain wait list (no priority; a second pending question would have priority 2).
    const nextJob = `${h.prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: next.channel, ts: next.ts })}`;
    expect(await h.redis.hget(nextJob, 'priority')).toBe('0');
  });

  it('100 questions waiting for a sleeping model hold no worker slot: with 20 slots, questions to Live models are answered', async () => {
    // Five times more waiting questions than the worker has slots: were a waiting question to keep its slot, the
    // questions to a Live model would wait for DeepSeek-R1 to start, which it never does here.
    h = await startHarness({ mode: 'socket', env: { ...FAST, WORKER_CONCURRENCY: '20' } });
    const harness = h;
    for (let i = 0; i < 100; i++) await h.mention({ text: `<@${BOT_USER_ID}> -m deepseek waiting ${i}` });
    await waitFor(() => harness.slack.messages.filter((m) => m.text.includes('is Starting on Metis')).length === 100, 'all 100 waiting', 20_000);
    const live: FakeMessage[] = [];
    for (let i = 0; i < 10; i++) live.push(await h.mention({ text: `<@${BOT_USER_ID}> -m 70b busy ${i}` }));
    for (const q of live) expect((await h.reply(q, { timeoutMs: 20_000 }))[0]?.text).toMatch(/^You said: Ada: busy \d$/);
    expect(h.gateway.chatRequests.filter((r) => r.model === 'DeepSeek-R1')).toHaveLength(0);
  });
});

describe('choosing a model', () => {
  it('a channel default set with /metis model is used, shown and cleared', async () => {
    h = await startHarness({ mode: 'socket' });
    const set = await h.command('/metis', 'model 8b');
    expect(set.body.response_type).toBe('in_channel');
    expect(String(set.body.text)).toContain('set this channel\'s default model to `Meta-Llama-3.1-8B-Instruct`');
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('default model is `Meta-Llama-3.1-8B-Instruct`');
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> hi` }));
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('Meta-Llama-3.1-8B-Instruct');
    await h.command('/metis', 'model clear');
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('has no default model');
    expect(String((await h.command('/metis')).body.text)).toContain('/metis-models');
  });

  it('"Use in this channel" sets the default', async () => {
    h = await startHarness({ mode: 'http' });
    const click = await h.click('use_model', 'Meta-Llama-3.3-70B-Instruct');
    const harness = h;
    await waitFor(() => harness.slack.responses.find((r) => r.url === click.responseUrl), 'the confirmation');
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('`Meta-Llama-3.3-70B-Instruct`');
  });

  it('a thread keeps the model most recently named with -m in it; defaults and fallbacks never displace it', async () => {
    h = await startHarness({ mode: 'socket' });
    const chat = (harness: Harness) => harness.gateway.chatRequests.map((r) => r.model);
    // No -m yet: the first Live model answers, and the thread is not tied to it.
    const root = await h.mention({ text: `<@${BOT_USER_ID}> start here` });
    await h.reply(root);
    await h.command('/metis', 'model gpt-oss');
    const second = await h.mention({ text: `<@${BOT_USER_ID}> and now?`, thread_ts: root.ts });
    await h.reply(second);
    expect(chat(h)).toEqual(['Meta-Llama-3.1-8B-Instruct', 'gpt-oss-120b']);
    // Switching with -m sticks for the rest of the thread, over the channel's default.
    const switched = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b switch`, thread_ts: root.ts });
    await h.reply(switched);
    const after = await h.mention({ text: `<@${BOT_USER_ID}> keep going`, thread_ts: root.ts });
    await h.reply(after);
    expect(chat(h).slice(2)).toEqual(['Meta-Llama-3.3-70B-Instruct', 'Meta-Llama-3.3-70B-Instruct']);
    // Switching again: the latest -m wins.
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> -m 8b once more`, thread_ts: root.ts }));
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> and then?`, thread_ts: root.ts }));
    expect(chat(h).slice(4)).toEqual(['Meta-Llama-3.1-8B-Instruct', 'Meta-Llama-3.1-8B-Instruct']);
  });

  it('a thread started with -m keeps that model over a channel default set later', async () => {
    h = await startHarness({ mode: 'socket' });
    const root = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b start here` });
    await h.reply(root);
    await h.command('/metis', 'model 8b');
    const follow = await h.mention({ text: `<@${BOT_USER_ID}> and then?`, thread_ts: root.ts });
    await h.reply(follow);
    expect(h.gateway.chatRequests.map((r) => r.model)).toEqual(['Meta-Llama-3.3-70B-Instruct', 'Meta-Llama-3.3-70B-Instruct']);
    const fresh = await h.mention({ text: `<@${BOT_USER_ID}> new thread` });
    await h.reply(fresh);
    expect(h.gateway.chatRequests.at(-1)?.model).toBe('Meta-Llama-3.1-8B-Instruct');
  });

  it('a misspelt METIS_DEFAULT_MODEL: logged, shown in /metis admin, and questions use the first Live model with a note', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_DEFAULT_MODEL: 'llama-3.3-70b', METIS_ADMIN_USERS: 'U0ADMIN' } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> hi` });
    const replies = await h.reply(q, { count: 2 });
    expect(replies[0]?.text).toBe('You said: Ada: hi');
    // The gateway lists DeepSeek-R1 (Starting) first; the first Live model is the 8B.
    expect(h.gateway.chatRequests.map((r) => r.model)).toEqual(['Meta-Llama-3.1-8B-Instruct']);
    expect(replies[1]?.text).toContain('`METIS_DEFAULT_MODEL=llama-3.3-70b`, is not a model Metis offers, so I used `Meta-Llama-3.1-8B-Instruct`');
    const logged = h.logs.filter((l) => String(l.msg).startsWith('METIS_DEFAULT_MODEL names no model Metis offers'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, setting: 'METIS_DEFAULT_MODEL', value: 'llama-3.3-70b', suggestion: 'Meta-Llama-3.3-70B-Instruct' });
    const admin = String((await h.command('/metis', 'admin', { user: 'U0ADMIN' })).body.text);
    expect(admin).toContain('*Default model:* :warning: `METIS_DEFAULT_MODEL=llama-3.3-70b` is not a model Metis offers (did you mean `Meta-Llama-3.3-70B-Instruct`?)');
    // Help and /metis model say what really happens, not the setting's name as if it worked.
    for (const text of [(await h.command('/metis', '')).body.text, (await h.command('/metis', 'model')).body.text]) {
      expect(String(text)).toContain("I use the first Live model (the bot's default, `METIS_DEFAULT_MODEL=llama-3.3-70b`, is not a model Metis offers");
    }
  });

  it('a correct METIS_DEFAULT_MODEL is used without a note, and /metis admin says nothing of it', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_DEFAULT_MODEL: 'gpt-oss-120b', METIS_ADMIN_USERS: 'U0ADMIN' } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> hi` });
    await h.reply(q);
    // A later question is the barrier: a note for the first would have been posted before its answer.
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> again` }));
    expect(h.slack.botReplies(DEFAULT_CHANNEL, q.ts)).toHaveLength(1);
    expect(h.gateway.chatRequests.map((r) => r.model)).toEqual(['gpt-oss-120b', 'gpt-oss-120b']);
    expect(String((await h.command('/metis', 'admin', { user: 'U0ADMIN' })).body.text)).not.toContain('Default model');
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('I use `gpt-oss-120b`');
  });

  it('a remembered model that disappears is reported clearly', async () => {
    h = await startHarness({ mode: 'socket', env: FAST });
    await h.command('/metis', 'model qwen');
    h.gateway.setModels([
      { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live' },
      { name: 'gpt-oss-120b', status: 'Live' },
    ]);
    await sleep(1100);
    const [reply] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> hello` }));
    expect(reply?.text).toContain("This channel's default model `Qwen2.5-Coder-0.5B-Instruct` is no longer offered by Metis");
    expect(reply?.text).toContain('`gpt-oss-120b`');
    expect(h.gateway.chatRequests).toHaveLength(0);
  });
});

describe('a conversation too long for the model', () => {
  it('when Metis refuses it, says so, and what to do, instead of blaming the bot; nothing is retried', async () => {
    h = await startHarness({
      mode: 'socket',
      gateway: {
        models: [
          // Its window is not published, and the limit its refusal names is too small to be believed as a window.
          { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live', contextWindowTokens: 60, details: 'no-window' },
          { name: 'gpt-oss-120b', status: 'Live' },
        ],
      },
    });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b ${'a rather long question '.repeat(20)}` });
    const [reply] = await h.reply(q, { timeoutMs: 15_000 });
    expect(reply?.text).toMatch(/This conversation is too long for `Meta-Llama-3\.3-70B-Instruct` \(it takes at most 60 tokens; this needed \d+\)/);
    expect(reply?.text).toContain('Start a new thread');
    expect(reply?.text).toContain('a model that takes a longer context');
    expect(reply?.text).not.toContain('bug');
    expect(h.gateway.chatRequests).toHaveLength(1);
    // The same question to a model with room for it is answered.
    const again = await h.mention({ text: `<@${BOT_USER_ID}> -m gpt ${'a rather long question '.repeat(20)}`, thread_ts: q.ts });
    expect((await h.reply(again, { timeoutMs: 15_000 }))[0]?.text).toContain('You said:');
  });
});
