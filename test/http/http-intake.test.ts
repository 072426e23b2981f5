/**
 * HTTP mode's front (SlackHttpIntake) under a real Bolt App, against a real
 * Redis, spoken to over raw sockets where a test needs to send headers
 * without a body, a body that never ends, or headers one line at a time.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AckAfterHandling } from '../../src/slack/ack-after-handling.ts';
import { type HttpIntakeLimits, SlackHttpIntake } from '../../src/slack/http-intake.ts';
import { SeenSignatures } from '../../src/slack/request-signature.ts';
import { BOT_USER_ID, signSlackRequest } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'intake-test-secret-0123456789abcdef';
let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
});

const quietBoltLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

interface Bot {
  port: number;
  intake: SlackHttpIntake;
  commands: string[];
  mentions: string[];
  /** Makes the next command's handler throw (Bolt then answers non-2xx and Slack would redeliver). */
  failNextCommand(): void;
  clock: { nowMs: number };
  stop(): Promise<void>;
}

const running: Bot[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function startBot(opts: { limits?: Partial<HttpIntakeLimits>; prefix?: string; clockMs?: number } = {}): Promise<Bot> {
  const clock = { nowMs: opts.clockMs ?? Date.now() };
  const intake = new SlackHttpIntake({
    signingSecret: SECRET,
    seen: new SeenSignatures(redis, opts.prefix ?? `t${randomBytes(4).toString('hex')}`),
    logger: capturedLogger('silent').logger,
    limits: opts.limits,
    now: () => clock.nowMs,
  });
  const app = new App({
    token: 'xoxb-test',
    receiver: new AckAfterHandling(intake),
    tokenVerificationEnabled: false,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    logger: quietBoltLogger,
  });
  const commands: string[] = [];
  const mentions: string[] = [];
  let failNext = false;
  app.command('/metis', async ({ command, ack }) => {
    if (failNext) {
      failNext = false;
      throw new Error('queue unavailable');
    }
    commands.push(command.text);
    await ack();
  });
  app.event('app_mention', async ({ event }) => {
    mentions.push(event.text);
  });
  const server = (await app.start(0)) as Server;
  const bot: Bot = {
    port: (server.address() as AddressInfo).port,
    intake,
    commands,
    mentions,
    clock,
    failNextCommand: () => {
      failNext = true;
    },
    stop: async () => {
      await app.stop();
    },
  };
  running.push(bot);
  return bot;
}

function mentionBody(text: string): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: 'T0001',
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: `Ev${randomBytes(4).toString('hex')}`,
    event_time: 1700000001,
    event: { type: 'app_mention', user: 'U0HUMAN', text, ts: '1700000001.000200', channel: 'C0CHAN', event_ts: '1700000001.000200' },
    authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'U0BOT', is_bot: true, is_enterprise_install: false }],
  });
}

function commandBody(text: string): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T0001',
    channel_id: 'C0CHAN',
    user_id: 'U0HUMAN',
    command: '/metis',
    text,
    response_url: 'https://hooks.slack.invalid/commands/1',
    trigger_id: '1.2.3',
  }).toString();
}

async function post(bot: Bot, body: string, o: { timestampSeconds?: number; contentType?: string; signature?: string } = {}) {
  const ts = o.timestampSeconds ?? Math.floor(bot.clock.nowMs / 1000);
  const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/json',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': o.signature ?? signSlackRequest(SECRET, ts, body),
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** A raw connection: what the server wrote, and whether it has closed. */
function rawConnection(port: number): { socket: Socket; received: () => string; closed: Promise<void>; isClosed: () => boolean } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  socket.on('data', (d) => {
    data += d.toString();
  });
  socket.on('error', () => {});
  const done = new Promise<void>((r) => socket.once('close', () => r()));
  void done.then(() => {
    closed = true;
  });
  return { socket, received: () => data, closed: done, isClosed: () => closed };
}

function head(port: number, headers: Record<string, string>): string {
  const lines = Object.entries({ host: `127.0.0.1:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST /slack/events HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Headers that pass the cheap checks (a well-formed signature, dated now) but whose HMAC is forged. */
function forgedHeaders(bot: Bot, contentLength?: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(Math.floor(bot.clock.nowMs / 1000)),
    'x-slack-signature': `v0=${'ab'.repeat(32)}`,
    ...(contentLength === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(contentLength) }),
  };
}

describe('HTTP intake', () => {
  it('hands a correctly signed event to Bolt', async () => {
    const bot = await startBot();
    expect(await post(bot, mentionBody('<@U0BOT> hello'))).toBe(200);
    expect(bot.mentions).toEqual(['<@U0BOT> hello']);
  });

  it('refuses missing, malformed or stale signature headers before reading any of the body', async () => {
    const bot = await startBot();
    const now = Math.floor(bot.clock.nowMs / 1000);
    const cases: Record<string, string>[] = [
      {},
      { 'x-slack-request-timestamp': String(now) },
      { 'x-slack-signature': `v0=${'ab'.repeat(32)}` },
      { 'x-slack-request-timestamp': String(now), 'x-slack-signature': 'v0=not-hex' },
      { 'x-slack-request-timestamp': 'yesterday', 'x-slack-signature': `v0=${'ab'.repeat(32)}` },
      { 'x-slack-request-timestamp': String(now - 301), 'x-slack-signature': `v0=${'ab'.repeat(32)}` },
    ];
    for (const signature of cases) {
      // A promised 100 kB body, none of it sent: the answer must come anyway, and the connection close.
      const c = rawConnection(bot.port);
      c.socket.write(head(bot.port, { 'content-type': 'application/json', 'content-length': '100000', ...signature }));
      await c.closed;
      expect(c.received()).toMatch(/^HTTP\/1\.1 401 /);
    }
    expect(bot.intake.unverifiedCount).toBe(0);
  });

  it('refuses a body declared larger than the cap with 413, without reading it', async () => {
    const bot = await startBot({ limits: { maxBodyBytes: 64 * 1024 } });
    const c = rawConnection(bot.port);
    c.socket.write(head(bot.port, forgedHeaders(bot, 64 * 1024 + 1)));
    await waitFor(() => c.received().length > 0, 'an answer to the headers alone');
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    await c.closed;
  });

  it('refuses a chunked body with 413 as soon as it passes the cap, though it never ends', async () => {
    const bot = await startBot({ limits: { maxBodyBytes: 64 * 1024 } });
    const c = rawConnection(bot.port);
    c.socket.write(head(bot.port, forgedHeaders(bot)));
    const chunk = 'x'.repeat(16 * 1024);
    // Five 16 kB chunks (80 kB) and no terminating chunk: buffering it whole would mean waiting forever.
    for (let i = 0; i < 5; i++) c.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    await waitFor(() => c.received().length > 0, 'an answer before the body ends');
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    await c.closed;
  });

  it('closes a connection that trickles its headers past the headers timeout', async () => {
    // A deadline many trickles long, so a busy machine's late timers still leave several before it.
    const bot = await startBot({ limits: { headersTimeoutMs: 1500, requestTimeoutMs: 3000, timeoutCheckIntervalMs: 50 } });
    const c = rawConnection(bot.port);
    c.socket.write(`POST /slack/events HTTP/1.1\r\nhost: 127.0.0.1:${bot.port}\r\n`);
    let n = 0;
    const trickle = setInterval(() => {
      if (!c.isClosed()) c.socket.write(`x-trickle-${n++}: ${'y'.repeat(10)}\r\n`);
    }, 50);
    try {
      await waitFor(() => c.isClosed(), 'the server to close the trickling connection', 5_000);
    } finally {
      clearInterval(trickle);
    }
    // It was still sending when closed: the deadline, not a lull, ended it.
    expect(n).toBeGreaterThan(3);
  });

  it('closes a connection whose body stops arriving, past the request timeout', async () => {
    const bot = await startBot({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 50 } });
    const c = rawConnection(bot.port);
    c.socket.write(head(bot.port, forgedHeaders(bot, 1000)));
    c.socket.write('{"partial":');
    await waitFor(() => bot.intake.unverifiedCount === 1, 'the request to be read');
    await waitFor(() => c.isClosed(), 'the server to close the stalled request', 5_000);
    await waitFor(() => bot.intake.unverifiedCount === 0, 'its place to be given back');
  });

  it('holds at most maxUnverified bodies at once, dropping the oldest, and still takes signed events', async () => {
    const bot = await startBot({ limits: { maxUnverified: 3 } });
    const held: ReturnType<typeof rawConnection>[] = [];
    for (let i = 0; i < 5; i++) {
      const c = rawConnection(bot.port);
      c.socket.write(head(bot.port, forgedHeaders(bot, 1000)));
      c.socket.write('{"stalled":');
      held.push(c);
      await waitFor(() => bot.intake.unverifiedCount === Math.min(i + 1, 3) && (i < 3 || held[i - 3]?.isClosed()), `stalled request ${i + 1} to be held`);
      expect(bot.intake.unverifiedCount).toBeLessThanOrEqual(3);
    }
    expect(held.map((c) => c.isClosed())).toEqual([true, true, false, false, false]);
    expect(await post(bot, mentionBody('<@U0BOT> still here'))).toBe(200);
    expect(bot.mentions).toEqual(['<@U0BOT> still here']);
    expect(held.map((c) => c.isClosed())).toEqual([true, true, true, false, false]);
    for (const c of held) c.socket.destroy();
  });

  it('refuses a correctly signed request dated more than 5 minutes ahead, and takes one just inside', async () => {
    const bot = await startBot({ clockMs: 1_800_000_000_000 });
    const now = 1_800_000_000;
    for (const ahead of [301, 600, 86_400, 365 * 86_400]) {
      expect(await post(bot, commandBody(`model ahead-${ahead}`), { timestampSeconds: now + ahead, contentType: 'application/x-www-form-urlencoded' })).toBe(401);
    }
    expect(await post(bot, commandBody('model behind'), { timestampSeconds: now - 301, contentType: 'application/x-www-form-urlencoded' })).toBe(401);
    expect(await post(bot, commandBody('model just-ahead'), { timestampSeconds: now + 299, contentType: 'application/x-www-form-urlencoded' })).toBe(200);
    expect(await post(bot, commandBody('model just-behind'), { timestampSeconds: now - 299, contentType: 'application/x-www-form-urlencoded' })).toBe(200);
    expect(bot.commands).toEqual(['model just-ahead', 'model just-behind']);
  });

  it('refuses a forged signature that passed the header checks', async () => {
    const bot = await startBot();
    expect(await post(bot, commandBody('model 8b'), { contentType: 'application/x-www-form-urlencoded', signature: `v0=${'ab'.repeat(32)}` })).toBe(401);
    expect(bot.commands).toEqual([]);
  });

  it('runs a signed /metis model 8b replayed three times once, across listeners sharing Redis', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const a = await startBot({ prefix });
    const b = await startBot({ prefix, clockMs: a.clock.nowMs });
    const ts = Math.floor(a.clock.nowMs / 1000);
    const body = commandBody('model 8b');
    const form = { contentType: 'application/x-www-form-urlencoded', timestampSeconds: ts };
    expect(await post(a, body, form)).toBe(200);
    expect(await post(a, body, form)).toBe(401);
    expect(await post(b, body, form)).toBe(401);
    expect(await post(a, body, form)).toBe(401);
    expect([...a.commands, ...b.commands]).toEqual(['model 8b']);
    // A request signed anew (as Slack signs each retry) is not a replay; the event id dedupes it further on.
    expect(await post(b, body, { ...form, timestampSeconds: ts + 1 })).toBe(200);
  });

  it('gives the signature back when the request was not answered with a 2xx, so an unchanged redelivery is handled', async () => {
    const bot = await startBot();
    const body = commandBody('model 70b');
    const form = { contentType: 'application/x-www-form-urlencoded', timestampSeconds: Math.floor(bot.clock.nowMs / 1000) };
    bot.failNextCommand();
    expect(await post(bot, body, form)).toBeGreaterThanOrEqual(500);
    await waitFor(async () => (await post(bot, body, form)) === 200, 'the redelivery to be handled');
    expect(bot.commands).toEqual(['model 70b']);
    expect(await post(bot, body, form)).toBe(401);
  });

  it('answers an unsigned ssl_check and nothing else unsigned', async () => {
    const bot = await startBot();
    const ssl = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ssl_check=1&token=legacy',
    });
    expect(ssl.status).toBe(200);
    const smuggled = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: commandBody('model 8b'),
    });
    expect(smuggled.status).toBe(401);
    expect(bot.commands).toEqual([]);
  });
});

describe('HTTP mode of the running service', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('refuses a future-dated or replayed signed mention; the next real one is answered alone', async () => {
    h = await startHarness({ mode: 'http' });
    const url = `http://127.0.0.1:${h.service.port}/slack/events`;
    const now = Math.floor(Date.now() / 1000);
    const ahead = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: `<@${BOT_USER_ID}> from the future` });
    expect((await h.slack.sendHttpEvent(url, h.slack.eventFor(ahead, 'app_mention'), { timestamp: now + 600 })).status).toBe(401);
    const once = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: `<@${BOT_USER_ID}> only once` });
    const event = h.slack.eventFor(once, 'app_mention');
    expect((await h.slack.sendHttpEvent(url, event, { timestamp: now })).status).toBe(200);
    expect((await h.slack.sendHttpEvent(url, event, { timestamp: now })).status).toBe(401);
    await h.reply(once);
    // A later question's answer is the barrier: by then the refused one would have been answered too.
    const later = await h.mention({ text: 'later' });
    await h.reply(later);
    expect(h.slack.botReplies(DEFAULT_CHANNEL, ahead.ts)).toHaveLength(0);
    expect(h.slack.botReplies(DEFAULT_CHANNEL, once.ts)).toHaveLength(1);
  });
});
