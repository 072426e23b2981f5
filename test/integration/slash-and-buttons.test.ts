/**
 * Slash commands and buttons: acknowledged within Slack's 3 s whatever Slack
 * does meanwhile, answered afterwards through response_url; buttons trust
 * nothing in their payload (who clicked, on which message, which model), and
 * people the allow lists refuse get the refusal and nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID, type FakeMessage, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await expectNoSecretsLeaked(h);
  await h?.stop();
  h = undefined;
});

/** Slack's limit for acknowledging a slash command or a click. */
const SLACK_ACK_LIMIT_MS = 3000;

/** What the bot answered through one response_url, once it has. */
const answerAt = (harness: Harness, url: string, timeoutMs = 10_000) =>
  waitFor(() => harness.slack.responses.find((r) => r.url === url), `the answer through ${url}`, timeoutMs).then((r) => r.body);

const usesOf = (harness: Harness, url: string) => harness.slack.responses.filter((r) => r.url === url).length;

/** Asks as `user` and waits until the request's job is done (answered, refused or turned away). */
async function askAs(harness: Harness, user: string, text: string): Promise<FakeMessage> {
  const m = harness.slack.postAsUser({ channel: DEFAULT_CHANNEL, user, text });
  await harness.deliver(harness.slack.eventFor(m, 'app_mention'));
  const key = `${harness.prefix}:answers:msg-${TEAM_ID}-${DEFAULT_CHANNEL}-${m.ts}`;
  await waitFor(async () => harness.redis.hget(key, 'finishedOn'), `the request "${text}" to finish`, 15_000);
  return m;
}

describe.each(['socket', 'http'] as const)('acknowledging first (%s mode)', (mode) => {
  it('acknowledges commands and clicks within 3 s while Slack takes 10 s to describe the user, then answers', async () => {
    h = await startHarness({ mode });
    const harness = h;
    h.slack.delayMethod('users.info', 10_000);
    const target = mode === 'http' ? { mode, url: `http://127.0.0.1:${h.service.port}/slack/events` } : { mode };
    // Three people the bot has not looked up yet: each check waits for users.info.
    const [models, usage, click] = await Promise.all([
      h.slack.sendSlashCommand(target, { command: '/metis-models', user: 'U0AMY' }),
      h.slack.sendSlashCommand(target, { command: '/metis', text: 'usage', user: 'U0BEA' }),
      h.click('use_model', 'Meta-Llama-3.3-70B-Instruct', { user: 'U0CAL' }),
    ]);
    for (const r of [models, usage, click]) {
      expect(r.ackMs).toBeLessThan(SLACK_ACK_LIMIT_MS);
      if (mode === 'http') expect(r.status).toBe(200);
    }
    // Acknowledged before the answer could exist: Slack has not described anyone yet.
    expect(h.slack.responses).toHaveLength(0);

    const listed = await answerAt(harness, models.responseUrl, 20_000);
    expect(JSON.stringify(listed.blocks)).toContain('of 5 Live');
    expect(String((await answerAt(harness, usage.responseUrl)).text)).toContain('*Your Metis usage*');
    const announced = await answerAt(harness, click.responseUrl);
    expect(announced.response_type).toBe('in_channel');
    expect(announced.text).toBe("<@U0CAL> set this channel's default model to `Meta-Llama-3.3-70B-Instruct`.");
    // Each interaction answers once: response_url allows only five uses.
    for (const r of [models, usage, click]) expect(usesOf(harness, r.responseUrl)).toBe(1);
  });
});

describe('after the acknowledgement', () => {
  it('a failure still reaches the person, briefly, and the operator, in full', async () => {
    h = await startHarness({ mode: 'socket' });
    h.slack.failNext('users.info', { error: 'fatal_error' });
    const { ackMs, body } = await h.command('/metis-models', '', { user: 'U0NEW' });
    expect(ackMs).toBeLessThan(SLACK_ACK_LIMIT_MS);
    expect(body.response_type).toBe('ephemeral');
    expect(String(body.text)).toContain('Something went wrong on my side');
    expect(String(body.text)).not.toContain('fatal_error');
    const line = h.logs.find((l) => l.msg === 'could not answer a slash command or button');
    expect(line).toMatchObject({ what: '/metis-models', user: 'U0NEW', channel: DEFAULT_CHANNEL });
    const logged = line?.err as { message: string; stack: string };
    expect(logged.message).toContain('fatal_error');
    expect(logged.stack).toMatch(/\n\s+at /); // in full: the operator sees where it came from
    // The bot lives on: the next command is answered.
    expect(JSON.stringify((await h.command('/metis-models', '', { user: 'U0NEW' })).body.blocks)).toContain('of 5 Live');
  });
});

describe('"Use in this channel"', () => {
  it('follows /metis model: allowed people only, announced in the channel', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0HUMAN' } });
    const harness = h;
    const refused = await h.click('use_model', 'Meta-Llama-3.3-70B-Instruct', { user: 'U0NOPE' });
    const refusal = await answerAt(harness, refused.responseUrl);
    expect(refusal.response_type).toBe('ephemeral');
    expect(String(refusal.text)).toContain("I'm not set up to answer you");
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('has no default model');

    const ok = await h.click('use_model', 'Meta-Llama-3.1-8B-Instruct');
    const announced = await answerAt(harness, ok.responseUrl);
    const byCommand = await h.command('/metis', 'model 8b', { channel: 'C0ELSE' });
    expect(byCommand.body).toMatchObject({ response_type: 'in_channel' });
    expect(announced).toMatchObject({ response_type: 'in_channel', text: byCommand.body.text });
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('default model is `Meta-Llama-3.1-8B-Instruct`');
  });

  it('accepts only the name of a Live model, and is offered only on Live models', async () => {
    h = await startHarness({ mode: 'http' });
    const harness = h;
    const listed = await h.command('/metis-models');
    const buttons = JSON.stringify(listed.body.blocks).match(/"value":"[^"]+"/g) ?? [];
    expect(buttons.sort()).toEqual(['"value":"Meta-Llama-3.1-8B-Instruct"', '"value":"Meta-Llama-3.3-70B-Instruct"', '"value":"gpt-oss-120b"']);

    // A forged value, a model that is not Live, and a fragment /metis model would have resolved.
    for (const value of ['<!channel> read this', 'DeepSeek-R1', '70b']) {
      const click = await h.click('use_model', value);
      const answer = await answerAt(harness, click.responseUrl);
      expect(answer.response_type).toBe('ephemeral');
      expect(String(answer.text)).toContain('does not name a model that is Live on Metis');
      expect(String(answer.text)).not.toContain(value);
    }
    expect(String((await h.command('/metis', 'model')).body.text)).toContain('has no default model');
    expect(h.logs.filter((l) => String(l.msg).includes('named no Live model'))).toHaveLength(3);
  });
});

describe('Cancel', () => {
  it('counts only on its own request\'s message, from the asker or an administrator', async () => {
    h = await startHarness({
      mode: 'socket',
      env: { METIS_MODEL_STATUS_TTL_SECONDS: '1', METIS_COLD_START_POLL_SECONDS: '1', METIS_ADMIN_USERS: 'U0ADMIN' },
    });
    const harness = h;
    h.slack.setUserName('U0BOB', 'Bob');
    const ada = await h.mention({ text: `<@${BOT_USER_ID}> -m 70b hello` });
    const [answer] = await h.reply(ada);
    expect(answer?.text).toBe('You said: Ada: hello');

    const bob = await h.mention({ user: 'U0BOB', text: `<@${BOT_USER_ID}> -m deepseek wait for me` });
    const note = await waitFor(() => harness.slack.botReplies(DEFAULT_CHANNEL, bob.ts).find((m) => m.text.includes('Starting on Metis')), 'the note');
    const requestId = (JSON.stringify(note.blocks).match(/"value":"([^"]+)"/) ?? [])[1] as string;
    const cancelled = () => harness.redis.get(`${harness.prefix}:cancelled:${requestId}`);

    // Bob's own Cancel, pointed at Ada's answer; then at his note as if it were in another channel.
    for (const forged of [
      { user: 'U0BOB', messageTs: answer?.ts },
      { user: 'U0BOB', messageTs: note.ts, channel: 'C0ELSE' },
    ]) {
      const click = await h.click('cancel_wait', requestId, forged);
      expect(String((await answerAt(harness, click.responseUrl)).text)).toContain('does not belong to the question it names');
    }
    expect(harness.slack.botReplies(DEFAULT_CHANNEL, ada.ts)[0]?.text).toBe('You said: Ada: hello');
    expect(await cancelled()).toBeNull();
    expect(h.logs.filter((l) => String(l.msg).includes('does not match the message'))).toHaveLength(2);

    const carol = await h.click('cancel_wait', requestId, { user: 'U0CAROL', messageTs: note.ts });
    expect(String((await answerAt(harness, carol.responseUrl)).text)).toContain('Only <@U0BOB>, who asked, or an administrator');
    expect(await cancelled()).toBeNull();

    await h.click('cancel_wait', requestId, { user: 'U0ADMIN', messageTs: note.ts });
    await waitFor(() => harness.slack.botReplies(DEFAULT_CHANNEL, bob.ts)[0]?.text.includes('Cancelled by <@U0ADMIN>'), 'the cancelled note');
    expect(await cancelled()).toBe('U0ADMIN');
    expect(harness.slack.botReplies(DEFAULT_CHANNEL, ada.ts)[0]?.text).toBe('You said: Ada: hello');
  });
});

describe('people the allow lists refuse', () => {
  it('get the refusal, not public help or "unknown option" replies', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0HUMAN' } });
    const bogus = await askAs(h, 'U0NOPE', `<@${BOT_USER_ID}> --bogus hello`);
    const empty = await askAs(h, 'U0NOPE', `<@${BOT_USER_ID}>`);
    for (const q of [bogus, empty]) expect(h.slack.botReplies(DEFAULT_CHANNEL, q.ts)).toHaveLength(0);
    const refusals = h.slack.ephemerals.filter((e) => e.user === 'U0NOPE');
    expect(refusals).toHaveLength(2);
    for (const r of refusals) expect(r.text).toContain("I'm not set up to answer you");
    // An allowed person still gets the help.
    const [help] = await h.reply(await askAs(h, 'U0HUMAN', `<@${BOT_USER_ID}> --bogus hello`));
    expect(help?.text).toContain("I don't know the option");
  });
});
