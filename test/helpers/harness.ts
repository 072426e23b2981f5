/**
 * Runs the real service (the same startService the CLI runs) against the
 * fakes: fake Slack, fake gateway, and optionally fake Globus, on loopback,
 * with a real Redis and a queue prefix of its own so tests never share state.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisConnection } from '../../src/redis-connection.ts';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Clock } from '../../src/clock.ts';
import { capturedLogger } from './captured-logger.ts';
import { type Role, type RunningService, startService } from '../../src/main.ts';
import { type FakeGateway, type FakeGatewayOptions, startFakeGateway } from '../fakes/gateway.ts';
import { type FakeGlobus, GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, startFakeGlobus } from '../fakes/globus.ts';
import { answerJobId } from '../../src/queue/answer-job.ts';
import { type ActionKind, APP_TOKEN, BOT_TOKEN, type FakeMessage, type FakeSlack, SIGNING_SECRET, startFakeSlack, TEAM_ID } from '../fakes/slack.ts';
import { waitFor } from './wait.ts';


export interface HarnessOptions {
  mode: 'socket' | 'http';
  role?: Role;
  gateway?: FakeGatewayOptions;
  /** Use the fake Globus client-credentials grant instead of a static token. */
  globus?: boolean;
  env?: Record<string, string>;
  /** A Redis of the test's own (to stop and restart it); default: the suite's. */
  redisUrl?: string;
  /** What times the thread status's refreshes (a ManualClock, to step past Slack's 2-minute timeout). */
  clock?: Clock;
  /** `all` only: answers in a thread of their own, as the CLI runs it (its log lines go to stdout, not to `logs`). */
  answerThread?: boolean;
}

export interface Harness {
  slack: FakeSlack;
  gateway: FakeGateway;
  globus?: FakeGlobus;
  service: RunningService;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  /** Every log line the service wrote, as parsed JSON. */
  logs: Record<string, unknown>[];
  rawLogs: string[];
  /** Delivers an event the way the harness's mode does (signed HTTP POST or Socket Mode envelope). */
  deliver(body: ReturnType<FakeSlack['eventFor']>, opts?: { retry?: number }): Promise<{ status?: number }>;
  /** As a person would: writes `text` in `channel` (optionally in a thread) and delivers the event. */
  mention(opts: { channel?: string; user?: string; text: string; thread_ts?: string; files?: Record<string, unknown>[] }): Promise<FakeMessage>;
  dm(opts: { channel?: string; user?: string; text: string; thread_ts?: string }): Promise<FakeMessage>;
  /**
   * Runs a slash command as a person would; resolves with what the person sees: `body` is the acknowledgement's
   * text if it had any, else the bot's first answer through response_url (waited for).
   */
  command(command: string, text?: string, opts?: { user?: string; channel?: string }): ReturnType<FakeSlack['sendSlashCommand']>;
  /** Where interactive payloads (shortcuts, modal submissions) go in the harness's mode. */
  interactive: { mode: 'socket' } | { mode: 'http'; url: string };
  /** Clicks a button as a person would. */
  click(actionId: string, value: string, opts?: { user?: string; channel?: string; messageTs?: string; kind?: ActionKind }): ReturnType<FakeSlack['sendAction']>;
  /** Waits for the bot's finished reply in the thread of `m` (an answer or a notice), returns the thread's bot messages. */
  reply(m: FakeMessage, opts?: { timeoutMs?: number; count?: number }): Promise<FakeMessage[]>;
  stop(): Promise<void>;
}

export const DEFAULT_CHANNEL = 'C0CHAN';
export const DEFAULT_USER = 'U0HUMAN';

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const redisUrl = opts.redisUrl ?? inject('redisUrl');
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const slack = await startFakeSlack();
  const gateway = await startFakeGateway({ validTokens: ['valid-token'], ...opts.gateway });
  const validTokens: string[] = ['valid-token'];
  const globus = opts.globus
    ? await startFakeGlobus({
        clientId: GLOBUS_CLIENT_ID,
        clientSecret: GLOBUS_CLIENT_SECRET,
        // As at Globus, a new token does not end the earlier ones.
        onIssue: (token) => {
          validTokens.push(token);
          gateway.setValidTokens(validTokens);
        },
      })
    : undefined;
  slack.setUserName(DEFAULT_USER, 'Ada');

  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redisUrl,
    INFERENCE_GATEWAY_URL: gateway.url,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'debug',
    METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.05',
    // Tests stream fast to stay quick; the fleet-wide edit budget has tests of its own.
    METIS_SLACK_EDITS_PER_MINUTE: '0',
    // Most tests read edited answers; native streams have tests of their own (test/integration/native-stream.test.ts).
    SLACK_STREAMING: 'edit',
    SHUTDOWN_GRACE_SECONDS: '5',
    METIS_GATEWAY_RETRY_BASE_SECONDS: '0.05',
    METIS_ACCESS_WAIT_SECONDS: '0',
    METIS_ACCESS_PROBE_SECONDS: '1',
    ...(opts.mode === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    ...(globus
      ? {
          GLOBUS_AUTH_URL: globus.url,
          GLOBUS_CLIENT_ID,
          GLOBUS_CLIENT_SECRET,
          TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        }
      : { METIS_ACCESS_TOKEN: 'valid-token' }),
    ...opts.env,
  };

  const config = loadConfig(env);
  const { logger, lines: rawLogs, entries: logs } = capturedLogger(config.logLevel);
  const service = await startService(config, { role: opts.role ?? 'all', logger, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.answerThread ? { answerThread: true } : {}) });
  if (opts.mode === 'socket' && (opts.role ?? 'all') !== 'worker') await slack.waitForSocket();
  const redis = redisConnection(redisUrl, { lazyConnect: false });
  redis.on('error', () => undefined); // tests that stop Redis expect this client to reconnect quietly

  const eventsUrl = `http://127.0.0.1:${service.port}/slack/events`;
  const harness: Harness = {
    slack,
    gateway,
    globus,
    service,
    redis,
    prefix: config.queue.prefix,
    env,
    logs,
    rawLogs,
    async deliver(body, o = {}) {
      if (opts.mode === 'http') {
        const r = await slack.sendHttpEvent(eventsUrl, body, { retryNum: o.retry });
        return { status: r.status };
      }
      await slack.sendSocketEvent(body, { retryAttempt: o.retry });
      return {};
    },
    async mention({ channel = DEFAULT_CHANNEL, user = DEFAULT_USER, text, thread_ts, files }) {
      const m = slack.postAsUser({ channel, user, text, thread_ts, files });
      const r = await harness.deliver(slack.eventFor(m, 'app_mention'));
      if (r.status !== undefined && r.status !== 200) throw new Error(`event delivery answered ${r.status}`);
      return m;
    },
    async dm({ channel = 'D0DM', user = DEFAULT_USER, text, thread_ts }) {
      const m = slack.postAsUser({ channel, user, text, thread_ts });
      const r = await harness.deliver(slack.eventFor(m, 'message'));
      if (r.status !== undefined && r.status !== 200) throw new Error(`event delivery answered ${r.status}`);
      return m;
    },
    async command(command, text = '', o = {}) {
      const r = await slack.sendSlashCommand(opts.mode === 'http' ? { mode: 'http', url: eventsUrl } : { mode: 'socket' }, { command, text, ...o });
      if (Object.keys(r.body).length > 0) return r;
      const answer = await waitFor(() => slack.responses.find((x) => x.url === r.responseUrl), `the answer to ${command} ${text}`, 20_000);
      return { ...r, body: answer.body };
    },
    interactive: opts.mode === 'http' ? { mode: 'http', url: eventsUrl } : { mode: 'socket' },
    click(actionId, value, o = {}) {
      return slack.sendAction(opts.mode === 'http' ? { mode: 'http', url: eventsUrl } : { mode: 'socket' }, { actionId, value, ...o });
    },
    async reply(m, o = {}) {
      const threadTs = m.thread_ts ?? m.ts;
      // Done when the request's job has finished (answered or failed) and nothing is left pending.
      const jobKey = `${config.queue.prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: m.channel, ts: m.ts })}`;
      return waitFor(
        async () => {
          if (!(await redis.hget(jobKey, 'finishedOn'))) return undefined;
          const mine = slack.botReplies(m.channel, threadTs).filter((r) => Number(r.ts) > Number(m.ts));
          const done = mine.filter((r) => r.metadata?.event_type !== 'metis_pending');
          return mine.length > 0 && done.length === mine.length && done.length >= (o.count ?? 1) ? mine : undefined;
        },
        `the bot's reply to "${m.text.slice(0, 40)}"`,
        o.timeoutMs ?? 10_000,
      );
    },
    async stop() {
      await service.stop();
      redis.disconnect();
      await slack.close();
      await gateway.close();
      await globus?.close();
    },
  };
  return harness;
}
