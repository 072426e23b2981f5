/**
 * Team-shared access: who may use the bot, fair turns, the gateway budget,
 * personal limits, usage accounting, the audit trail and admin commands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answerJobId } from '../../src/queue/answer-job.ts';
import { BOT_USER_ID, type FakeMessage, TEAM_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await expectNoSecretsLeaked(h);
  await h?.stop();
  h = undefined;
});

/** Asks as `user` in `channel` and waits until the request is done (answered, refused or limited). */
async function askAs(harness: Harness, user: string, text: string, channel = DEFAULT_CHANNEL): Promise<FakeMessage> {
  const m = harness.slack.postAsUser({ channel, user, text: `<@${BOT_USER_ID}> ${text}` });
  await harness.deliver(harness.slack.eventFor(m, 'app_mention'));
  const key = `${harness.prefix}:answers:msg-${TEAM_ID}-${channel}-${m.ts}`;
  await waitFor(async () => harness.redis.hget(key, 'finishedOn'), `the request "${text}" to finish`, 15_000);
  return m;
}

const refusedFor = (harness: Harness, user: string) => harness.slack.ephemerals.filter((e) => e.user === user);

describe('who may use it', () => {
  it('allowed channels: elsewhere a polite ephemeral refusal, and nothing sent to the gateway', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_CHANNELS: 'C0OK' } });
    await askAs(h, 'U0HUMAN', 'in the wrong channel');
    expect(refusedFor(h, 'U0HUMAN')[0]?.text).toContain('I only answer in the channels');
    expect(h.gateway.requests.filter((r) => r.path.includes('chat'))).toHaveLength(0);
    expect(h.slack.botReplies(DEFAULT_CHANNEL, h.slack.messages[0]?.ts ?? '')).toHaveLength(0);
    const ok = await askAs(h, 'U0HUMAN', 'in the right one', 'C0OK');
    expect((await h.reply(ok))[0]?.text).toBe('You said: Ada: in the right one');
  });

  it('allowed users and user groups', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0LISTED', SLACK_ALLOWED_USERGROUPS: 'S0LAB' } });
    h.slack.setUsergroup('S0LAB', ['U0HUMAN']);
    await askAs(h, 'U0STRANGER', 'let me in');
    expect(refusedFor(h, 'U0STRANGER')).toHaveLength(1);
    await askAs(h, 'U0LISTED', 'listed');
    await askAs(h, 'U0HUMAN', 'in the group');
    expect(refusedFor(h, 'U0LISTED')).toHaveLength(0);
    expect(refusedFor(h, 'U0HUMAN')).toHaveLength(0);
    expect(h.gateway.chatRequests).toHaveLength(2);
  });

  it('allowed teams', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_TEAMS: 'T0ELSEWHERE' } });
    await askAs(h, 'U0HUMAN', 'from the wrong workspace');
    expect(refusedFor(h, 'U0HUMAN')).toHaveLength(1);
    expect(h.gateway.chatRequests).toHaveLength(0);
  });

  it('guests and Slack Connect users are refused unless listed', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0GUESTOK' } });
    h.slack.setUserKind('U0GUEST', { guest: true });
    h.slack.setUserKind('U0GUESTOK', { guest: true });
    h.slack.setUserKind('U0EXT', { externalTeam: 'T0PARTNER' });
    await askAs(h, 'U0GUEST', 'guest here');
    await askAs(h, 'U0EXT', 'partner here');
    await askAs(h, 'U0GUESTOK', 'allowed guest');
    expect(refusedFor(h, 'U0GUEST')[0]?.text).toContain('only available to members of this workspace');
    expect(refusedFor(h, 'U0EXT')).toHaveLength(1);
    expect(refusedFor(h, 'U0GUESTOK')).toHaveLength(0);
    expect(h.gateway.chatRequests).toHaveLength(1);
  });

  it('when Slack rate-limits the check, the question is tried again, then the asker is told, and the bot lives on', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0LISTED', METIS_GATEWAY_ATTEMPTS: '2', METIS_GATEWAY_RETRY_BASE_SECONDS: '0.01' } });
    h.slack.setRateLimit('users.info', { perMinute: 0, retryAfterSeconds: 1 });
    const q = await askAs(h, 'U0FIRST', 'my first question');
    expect(h.slack.callsOf('users.info')).toHaveLength(2);
    const [notice] = h.slack.botReplies(DEFAULT_CHANNEL, q.ts);
    expect(notice?.text).toContain('Slack is asking me to slow down');
    expect(notice?.metadata?.event_type).toBe('metis_notice');
    // Finished as told, not left in the failed set.
    const result = await h.redis.hget(`${h.prefix}:answers:msg-${TEAM_ID}-${DEFAULT_CHANNEL}-${q.ts}`, 'returnvalue');
    expect(JSON.parse(result ?? '{}')).toEqual({ outcome: 'error', code: 'slack_busy' });
    h.slack.setRateLimit('users.info', undefined);
    await askAs(h, 'U0LISTED', 'and now?');
    expect(h.gateway.chatRequests).toHaveLength(1);
  });

  it('slash commands are refused the same way', async () => {
    h = await startHarness({ mode: 'socket', env: { SLACK_ALLOWED_USERS: 'U0LISTED' } });
    expect(String((await h.command('/metis-models', '', { user: 'U0NOPE' })).body.text)).toContain("I'm not set up to answer you");
    expect(String((await h.command('/metis', 'usage', { user: 'U0NOPE' })).body.text)).toContain("I'm not set up to answer you");
  });
});

describe('staying under the gateway\'s limits, fairly', () => {
  it('a burst of 500 questions against a gateway enforcing 10 requests/s: zero 429s, all answered', async () => {
    h = await startHarness({ mode: 'socket', gateway: { requestsPerSecond: 10, randomSplits: false }, env: { METIS_USER_CONCURRENCY: '0', WORKER_CONCURRENCY: '50' } });
    const harness = h;
    const questions: FakeMessage[] = [];
    for (let i = 0; i < 500; i++) {
      const m = harness.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `<@${BOT_USER_ID}> burst ${i}` });
      questions.push(m);
      await harness.deliver(harness.slack.eventFor(m, 'app_mention'));
    }
    for (const q of questions) await harness.reply(q, { timeoutMs: 120_000 });
    expect(harness.gateway.throttledCount()).toBe(0);
    expect(harness.gateway.chatRequests).toHaveLength(500);
    for (const q of questions) expect(harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0]?.text).toBe(`You said: Ada: ${q.text.split('> ')[1]}`);
  }, 180_000);

  it('fair turns: one person\'s 300 questions delay another\'s single question by at most a few turns', async () => {
    h = await startHarness({ mode: 'socket', env: { WORKER_CONCURRENCY: '1', METIS_GATEWAY_REQUESTS_PER_SECOND: '0' } });
    h.slack.setUserName('U0BOB', 'Bob');
    const harness = h;
    for (let i = 0; i < 300; i++) {
      const m = harness.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0HUMAN', text: `<@${BOT_USER_ID}> flood ${i}` });
      await harness.deliver(harness.slack.eventFor(m, 'app_mention'));
    }
    const asked = harness.gateway.chatRequests.length;
    const bob = await askAs(harness, 'U0BOB', 'just one question');
    const bobAt = harness.gateway.chatRequests.findIndex((r) => JSON.stringify(r.body).includes('Bob: just one question'));
    const turns = bobAt - asked;
    expect(turns).toBeLessThanOrEqual(3);
    expect((await harness.reply(bob))[0]?.text).toBe('You said: Bob: just one question');
  }, 120_000);

  it('per-person concurrency is capped', async () => {
    h = await startHarness({ mode: 'socket', gateway: { chunkDelayMs: 1 }, env: { METIS_USER_CONCURRENCY: '2', WORKER_CONCURRENCY: '20', METIS_GATEWAY_REQUESTS_PER_SECOND: '0' } });
    const harness = h;
    let peak = 0;
    const watcher = setInterval(async () => {
      const running = await harness.redis.zcard(`${harness.prefix}:fair:running:U0HUMAN`);
      peak = Math.max(peak, running);
    }, 5);
    const qs: FakeMessage[] = [];
    for (let i = 0; i < 8; i++) qs.push(await harness.mention({ text: `<@${BOT_USER_ID}> parallel ${i}` }));
    for (const q of qs) await harness.reply(q, { timeoutMs: 30_000 });
    clearInterval(watcher);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
  }, 60_000);
});

// The limits' hour and day stand still (a clock of the test's), so no window turns over mid-test.
describe('limits', () => {
  it('questions per hour: a clear message saying when the limit resets', async () => {
    h = await startHarness({ mode: 'socket', clock: new ManualClock(), env: { METIS_USER_REQUESTS_PER_HOUR: '2' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> one` }));
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> two` }));
    const [third] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> three` }));
    expect(third?.text).toMatch(/You've reached your limit of 2 questions an hour\. It resets in \d+ min \(\d\d:00 UTC\)\./);
    expect(h.gateway.chatRequests).toHaveLength(2);
  });

  it('tokens per day, counted from the usage the stream reports', async () => {
    h = await startHarness({ mode: 'socket', clock: new ManualClock(), env: { METIS_USER_TOKENS_PER_DAY: '10' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> a question long enough to use more than ten tokens in total` }));
    const [second] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> another` }));
    expect(second?.text).toMatch(/You've used your 10 tokens for today\. The limit resets/);
  });

  it('questions per hour in a channel', async () => {
    h = await startHarness({ mode: 'socket', clock: new ManualClock(), env: { METIS_CHANNEL_REQUESTS_PER_HOUR: '1' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> one` }));
    const [second] = await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> two`, user: 'U0OTHER' }));
    expect(second?.text).toMatch(/This channel has reached its limit of 1 questions an hour/);
  });
});

describe('usage, audit and admin', () => {
  it('usage matches the usage the gateway reported, per person, and /metis usage shows it', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_ADMIN_USERS: 'U0ADMIN' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> first` }));
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> second question` }));
    const reported = h.gateway.chatRequests.map((r) => r.usage as { promptTokens: number; completionTokens: number });
    const prompt = reported.reduce((a, u) => a + u.promptTokens, 0);
    const completion = reported.reduce((a, u) => a + u.completionTokens, 0);
    const mine = String((await h.command('/metis', 'usage')).body.text);
    expect(mine).toContain(`Today: 2 questions · ${prompt.toLocaleString('en-US')} prompt + ${completion.toLocaleString('en-US')} answer tokens`);
    expect(String((await h.command('/metis', 'usage team')).body.text)).toContain('Only the bot\'s administrators');
    const team = String((await h.command('/metis', 'usage team', { user: 'U0ADMIN' })).body.text);
    expect(team).toContain('<@U0HUMAN>');
    expect(team).toContain(`<#${DEFAULT_CHANNEL}>`);
  });

  it('keeps an audit trail without the question, unless asked to', async () => {
    h = await startHarness({ mode: 'socket' });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> a private matter` }));
    const [entry] = await h.redis.xrange(`${h.prefix}:audit`, '-', '+');
    const raw = entry?.[1] ?? [];
    const fields: Record<string, string> = {};
    for (let i = 0; i < raw.length; i += 2) fields[raw[i] as string] = raw[i + 1] as string;
    expect(fields).toMatchObject({ user: 'U0HUMAN', channel: DEFAULT_CHANNEL, outcome: 'answered', model: 'Meta-Llama-3.1-8B-Instruct' });
    expect(Number(fields.promptTokens)).toBeGreaterThan(0);
    expect(JSON.stringify(fields)).not.toContain('private matter');
    await h.stop();
    h = await startHarness({ mode: 'socket', env: { METIS_AUDIT_CONTENT: 'true' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> keep this one` }));
    expect(JSON.stringify(await h.redis.xrange(`${h.prefix}:audit`, '-', '+'))).toContain('keep this one');
  });

  it('/metis admin: refused to others; status for admins; pause holds questions (and says so), resume answers them', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_ADMIN_USERS: 'U0ADMIN' } });
    expect(String((await h.command('/metis', 'admin')).body.text)).toContain('Only the bot\'s administrators');
    expect(String((await h.command('/metis', 'admin pause')).body.text)).toContain('Only the bot\'s administrators');
    const status = String((await h.command('/metis', 'admin', { user: 'U0ADMIN' })).body.text);
    expect(status).toMatch(/\*Access:\* :white_check_mark: working \(static\)/);
    expect(status).toMatch(/\*Workers alive:\* 1/);
    await h.command('/metis', 'admin pause', { user: 'U0ADMIN' });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> while paused` });
    const harness = h;
    await waitFor(() => harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0]?.text.includes('paused by an administrator'), 'the paused note');
    expect(String((await h.command('/metis', 'admin', { user: 'U0ADMIN' })).body.text)).toMatch(/\*Paused:\* yes, by <@U0ADMIN>/);
    // The barrier: the parked question wakes, finds the pause still on, and is parked again, without asking Metis.
    const jobId = answerJobId({ teamId: TEAM_ID, channel: q.channel, ts: q.ts });
    const firstLook = await h.redis.hget(`${h.prefix}:answers:${jobId}`, 'processedOn');
    await waitFor(
      async () =>
        (await harness.redis.hget(`${harness.prefix}:answers:${jobId}`, 'processedOn')) !== firstLook &&
        (await harness.redis.zscore(`${harness.prefix}:answers:delayed`, jobId)) !== null,
      'the paused question looked at again and parked again',
    );
    expect(h.gateway.chatRequests).toHaveLength(0);
    await h.command('/metis', 'admin resume', { user: 'U0ADMIN' });
    expect((await h.reply(q, { timeoutMs: 15_000 }))[0]?.text).toBe('You said: Ada: while paused');
  });

  it('the App Home tab shows Live models, my usage, the defaults I set, and for admins the bot\'s state', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_ADMIN_USERS: 'U0HUMAN' } });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> hi` }));
    await h.command('/metis', 'model 70b');
    await h.deliver({ ...h.slack.eventFor(h.slack.messages[0] as FakeMessage, 'message'), event: { type: 'app_home_opened', user: 'U0HUMAN', channel: 'D0DM', tab: 'home', event_ts: '1' } });
    const harness = h;
    const view = await waitFor(() => harness.slack.homeViews.get('U0HUMAN'), 'the Home view');
    const text = JSON.stringify(view);
    expect(text).toContain('Live models');
    expect(text).toContain('Today: 1 questions');
    expect(text).toContain(`<#${DEFAULT_CHANNEL}>: \`Meta-Llama-3.3-70B-Instruct\``);
    expect(text).toContain('Workers alive');
  });
});
