/**
 * Every way the gateway can fail ends in one clear message in the thread:
 * no job hangs, no placeholder is left behind, no secret is shown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatFault } from '../fakes/gateway.ts';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { expectNoSecretsLeaked } from '../helpers/secrets.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await expectNoSecretsLeaked(h);
  await h?.stop();
  h = undefined;
});

/** Asks one question and returns the bot's finished messages in the thread. */
async function ask(harness: Harness, text = `<@${BOT_USER_ID}> hello there`) {
  const q = await harness.mention({ text });
  const replies = await harness.reply(q, { timeoutMs: 15_000 });
  // No placeholder left behind, in any case.
  expect(harness.slack.botReplies(DEFAULT_CHANNEL, q.ts).some((m) => m.metadata?.event_type === 'metis_pending')).toBe(false);
  for (const r of replies) expect(r.text).not.toContain('valid-token');
  return replies;
}

const gatewayError = (status: number, code: string, message: string): ChatFault => ({
  kind: 'status',
  status,
  body: { error: { code, message, info: {} } },
});

describe.each(['socket', 'http'] as const)('each gateway failure maps to its message (%s mode)', (mode) => {
  // Waiting for a model or for maintenance is the models suite's subject; here the wait is off.
  const permanent: { name: string; fault: ChatFault; expected: RegExp }[] = [
    {
      name: '401 policy (a person must act)',
      fault: gatewayError(401, 'unauthorized', 'Error: Permission denied from internal policies. This is likely due to a high-assurance timeout.'),
      expected: /Metis refused the bot's credentials\. An administrator needs to renew/,
    },
    {
      name: '404 unknown model',
      fault: gatewayError(404, 'endpoint_not_found', "The requested endpoint 'metis-api-foo' does not exist."),
      expected: /Metis no longer offers `.+`/,
    },
    {
      name: '422 validation',
      fault: { kind: 'status', status: 422, body: { detail: [{ type: 'extra_forbidden', loc: ['body', 'payload', 'top_k'], msg: 'Extra inputs are not permitted' }] } },
      expected: /rejected the request as malformed/,
    },
    {
      name: '503 not live',
      fault: gatewayError(503, 'internal_endpoint_error', "'Meta-Llama-3.1-8B-Instruct' is not currently live on Metis."),
      expected: /did not become Live on Metis within 0 min/,
    },
    {
      name: '503 maintenance, with the notice',
      fault: gatewayError(503, 'cluster_under_maintenance', 'Metis is down for maintenance until 5pm'),
      expected: /under maintenance: Metis is down for maintenance until 5pm/,
    },
  ];

  for (const c of permanent) {
    it(`${c.name}: one clear message, no retry`, async () => {
      h = await startHarness({ mode, env: { METIS_COLD_START_TIMEOUT_SECONDS: '0' } });
      h.gateway.injectChatFault(c.fault);
      const replies = await ask(h);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toMatch(c.expected);
      expect(replies[0]?.metadata?.event_type).toBe('metis_notice');
      expect(h.gateway.chatRequests).toHaveLength(1);
    });
  }

  const transient: { name: string; fault: ChatFault; expected: RegExp }[] = [
    { name: '500 upstream', fault: gatewayError(500, 'internal_endpoint_error', 'HTTP error calling API at https://metis.alcf.anl.gov/v1'), expected: /not responding properly/ },
    { name: '504 timeout', fault: gatewayError(504, 'internal_endpoint_error', 'Timeout calling https://metis.alcf.anl.gov/v1/chat/completions.'), expected: /took too long/ },
    { name: 'HTML error page', fault: { kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' }, expected: /not responding properly/ },
    { name: 'garbage stream', fault: { kind: 'garbage' }, expected: /connection to Metis dropped/ },
    { name: 'in-band error before any text', fault: { kind: 'in-band-error', afterChunks: 0 }, expected: /hit an error while answering/ },
  ];

  for (const c of transient) {
    it(`${c.name}: retried, and answered when the gateway recovers`, async () => {
      h = await startHarness({ mode });
      h.gateway.injectChatFault(c.fault);
      const replies = await ask(h);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toBe('You said: Ada: hello there');
      expect(h.gateway.chatRequests).toHaveLength(2);
    });

    it(`${c.name}: after the last attempt, one clear message`, async () => {
      h = await startHarness({ mode, env: { METIS_GATEWAY_ATTEMPTS: '2' } });
      h.gateway.injectChatFault(c.fault);
      h.gateway.injectChatFault(c.fault);
      const replies = await ask(h);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toMatch(c.expected);
      expect(h.gateway.chatRequests).toHaveLength(2);
    });
  }

  it('429 request throttle: the fleet slows down and the question is answered, never failed', async () => {
    h = await startHarness({ mode, env: { METIS_GATEWAY_ATTEMPTS: '1' } });
    for (let i = 0; i < 3; i++) h.gateway.injectChatFault({ kind: 'status', status: 429, body: { detail: 'Too many requests.' } });
    const [reply] = await ask(h);
    expect(reply?.text).toBe('You said: Ada: hello there');
    expect(h.gateway.chatRequests).toHaveLength(4);
    // Each 429 paused the whole fleet for about a second.
    const at = h.gateway.chatRequests.map((r) => r.at);
    for (let i = 1; i < at.length; i++) expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(900);
  });

  it('429 token limit (TPM): the question waits for the window to reset, says so, and is answered', async () => {
    h = await startHarness({ mode, env: { METIS_GATEWAY_ATTEMPTS: '1', METIS_TOKEN_LIMIT_BACKOFF_SECONDS: '2' } });
    h.gateway.injectChatFault({
      kind: 'status',
      status: 429,
      body: { error: { code: 'too_many_requests', message: 'Tokens/minute limit exceeded', info: { global_model_usage: 100342, user_model_usage: 60117 } } },
    });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> hello there` });
    const harness = h;
    await waitFor(() => harness.slack.botReplies(DEFAULT_CHANNEL, q.ts).find((m) => /per-minute token limit for `.+` is used up/.test(m.text)), 'the waiting note');
    const [reply] = await h.reply(q, { timeoutMs: 15_000 });
    expect(reply?.text).toBe('You said: Ada: hello there');
  });

  it('a stream that drops after text keeps the text and adds one message, without a retry', async () => {
    h = await startHarness({ mode });
    h.gateway.setReply(() => 'The first part of a long answer that will not finish properly at all.');
    h.gateway.injectChatFault({ kind: 'drop', afterChunks: 4 });
    const replies = await ask(h);
    await waitFor(() => h?.slack.botReplies(DEFAULT_CHANNEL, replies[0]?.thread_ts ?? '').length === 2, 'partial answer and message');
    const [partial, message] = h.slack.botReplies(DEFAULT_CHANNEL, replies[0]?.thread_ts ?? '');
    expect(partial?.text.length).toBeGreaterThan(0);
    expect('The first part of a long answer that will not finish properly at all.'.startsWith(partial?.text ?? 'x')).toBe(true);
    expect(message?.text).toMatch(/connection to Metis dropped before the answer was complete/);
    expect(h.gateway.chatRequests).toHaveLength(1);
  });

  it('an in-band error after text keeps the text and says what happened', async () => {
    h = await startHarness({ mode });
    h.gateway.setReply(() => 'Some words arrive before the failure happens in the upstream.');
    h.gateway.injectChatFault({ kind: 'in-band-error', afterChunks: 3 });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> go` });
    const replies = await h.reply(q, { count: 2 });
    expect(replies[1]?.text).toMatch(/hit an error while answering/);
    expect(replies[0]?.text).not.toContain('[ERROR]');
  });

  it('a stalled stream times out with a clear message', async () => {
    h = await startHarness({ mode, env: { METIS_STREAM_IDLE_TIMEOUT_SECONDS: '1', METIS_GATEWAY_ATTEMPTS: '1' } });
    h.gateway.injectChatFault({ kind: 'stall', afterChunks: 0 });
    const [reply] = await ask(h);
    expect(reply?.text).toMatch(/took too long/);
  });

  it('an unreachable gateway ends in a clear message', async () => {
    h = await startHarness({ mode, env: { INFERENCE_GATEWAY_URL: 'http://127.0.0.1:9/resource_server', METIS_GATEWAY_ATTEMPTS: '2' } });
    const [reply] = await ask(h);
    expect(reply?.text).toMatch(/not responding properly/);
  });

  it('an expired token is renewed once and the request retried (client credentials)', async () => {
    h = await startHarness({ mode, globus: true });
    const first = await ask(h);
    expect(first[0]?.text).toBe('You said: Ada: hello there');
    expect(h.globus?.grants).toHaveLength(1);
    // The gateway now says the cached token is no longer active.
    h.gateway.setTokenProblem(h.globus?.issued[0] as string, 'expired');
    const second = await ask(h, `<@${BOT_USER_ID}> again`);
    expect(second[0]?.text).toBe('You said: Ada: again');
    expect(h.globus?.grants).toHaveLength(2);
    expect(h.gateway.chatRequests.at(-1)?.authorization).toBe(`Bearer ${h.globus?.issued[1]}`);
  });

  it('an expired static token ends in a message that asks an administrator to act', async () => {
    h = await startHarness({ mode });
    h.gateway.setTokenProblem('valid-token', 'expired');
    const [reply] = await ask(h);
    expect(reply?.text).toMatch(/An administrator needs to renew the bot's Metis access/);
  });
});
