/**
 * When Metis access breaks in a way only a person can fix, people get one
 * short message per question, the admins get one alert per incident with the
 * cause and the fix, questions wait (bounded) so a quick fix saves them, and
 * a recovery notice follows once access works again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { waitFor } from '../helpers/wait.ts';

const ADMIN = 'U0ADMIN';
const ALERTS = 'C0ALERTS';
let h: Harness | undefined;
afterEach(async () => {
  if (h) await expectNoSecretsLeaked(h);
  await h?.stop();
  h = undefined;
});

const alertsIn = (harness: Harness, channel: string) => harness.slack.messages.filter((m) => m.channel === channel && m.bot_id);

describe('access incidents', () => {
  it('100 refused requests: 100 short messages, one alert per admin target; recovery: one notice', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_ADMIN_USERS: ADMIN, METIS_ALERT_CHANNEL: ALERTS } });
    h.gateway.setTokenProblem('valid-token', 'policy');
    const questions: FakeMessage[] = [];
    for (let i = 0; i < 100; i++) questions.push(await h.mention({ text: `<@${BOT_USER_ID}> question ${i}` }));
    for (const q of questions) {
      const replies = await h.reply(q, { timeoutMs: 20_000 });
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toMatch(/An administrator needs to renew the bot's Metis access/);
      // Nothing useful to an attacker: no gateway message, no policy details.
      expect(replies[0]?.text).not.toMatch(/policy|Permission denied|inference_auth_token/);
    }
    const dm = alertsIn(h, 'D0ADMIN');
    const channel = alertsIn(h, ALERTS);
    expect(dm).toHaveLength(1);
    expect(channel).toHaveLength(1);
    expect(dm[0]?.text).toContain('Metis access needs an administrator');
    expect(dm[0]?.text).toMatch(/high-assurance timeout/); // the exact cause, for admins
    expect(dm[0]?.text).toContain('METIS_ACCESS_TOKEN'); // and the fix

    // ALCF fixes it; the next question works, and the admins hear so once.
    h.gateway.clearTokenProblem('valid-token');
    await new Promise((r) => setTimeout(r, 1100)); // one probe interval
    const ok = await h.mention({ text: `<@${BOT_USER_ID}> working again?` });
    expect((await h.reply(ok))[0]?.text).toBe('You said: Ada: working again?');
    const ok2 = await h.mention({ text: `<@${BOT_USER_ID}> and again?` });
    await h.reply(ok2);
    await waitFor(() => alertsIn(h as Harness, 'D0ADMIN').length === 2, 'the recovery notice');
    expect(alertsIn(h, 'D0ADMIN')[1]?.text).toContain('Metis access works again');
    expect(alertsIn(h, ALERTS)).toHaveLength(2);
  });

  it('a question waits while access is broken and is answered in the same thread once it is fixed', async () => {
    h = await startHarness({ mode: 'socket', globus: true, env: { METIS_ACCESS_WAIT_SECONDS: '60', METIS_ADMIN_USERS: ADMIN } });
    // Warm up: the service account gets its token, then ALCF's policy starts refusing it.
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> warm up` }));
    const token = h.globus?.issued[0] as string;
    h.gateway.setTokenProblem(token, 'policy');
    const q = await h.mention({ text: `<@${BOT_USER_ID}> please wait for me` });
    const note = await waitFor(
      () => h?.slack.botReplies(DEFAULT_CHANNEL, q.ts).find((m) => m.text.includes('Metis access needs an administrator')),
      'the waiting note',
    );
    expect(note.metadata?.event_type).toBe('metis_pending');
    await waitFor(() => alertsIn(h as Harness, 'D0ADMIN').length === 1, 'the alert');
    expect(alertsIn(h, 'D0ADMIN')[0]?.text).toContain('ask ALCF support to allow the service account');

    h.gateway.clearTokenProblem(token);
    const replies = await h.reply(q, { timeoutMs: 15_000 });
    expect(replies).toHaveLength(1);
    expect(replies[0]?.ts).toBe(note.ts); // the note became the answer
    expect(replies[0]?.text).toBe('You said: Ada: please wait for me');
    await waitFor(() => alertsIn(h as Harness, 'D0ADMIN').length === 2, 'the recovery notice');
  });

  it('a token that expires mid-traffic is renewed once for all requests', async () => {
    h = await startHarness({ mode: 'socket', globus: true });
    await h.reply(await h.mention({ text: `<@${BOT_USER_ID}> first` }));
    expect(h.globus?.grants).toHaveLength(1);
    h.gateway.setTokenProblem(h.globus?.issued[0] as string, 'expired');
    const questions: FakeMessage[] = [];
    for (let i = 0; i < 20; i++) questions.push(await h.mention({ text: `<@${BOT_USER_ID}> q${i}` }));
    for (const q of questions) expect((await h.reply(q))[0]?.text).toBe(`You said: Ada: ${q.text.split('> ')[1]}`);
    expect(h.globus?.grants).toHaveLength(2);
  });
});
