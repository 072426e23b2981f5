/**
 * The soak: many questions against the fakes with random faults of every
 * kind (gateway errors, dropped and stalled streams, garbage, Slack rate
 * limits and size errors, redelivered events), optionally with worker
 * processes killed and Redis restarted in the middle. Every question must end
 * with exactly one answer or one clear error: nothing lost, nothing doubled,
 * nothing stuck, no placeholder left behind.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningService, startService } from '../../src/main.ts';
import { ANSWER_QUEUE, answerJobId } from '../../src/queue/answer-job.ts';
import { type ChatFault, type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';
import { APP_TOKEN, BOT_TOKEN, BOT_USER_ID, type FakeMessage, type FakeSlack, startFakeSlack, TEAM_ID } from '../fakes/slack.ts';
import { type BotProcess, runBot, stopAll } from '../helpers/process.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { sleep } from '../helpers/wait.ts';

export interface SoakOptions {
  requests: number;
  ratePerSecond: number;
  /** Share of questions that meet a fault (0–1). */
  faultRate: number;
  /** Run the listener and workers as separate processes (needed for kills). */
  processes: boolean;
  workers: number;
  /** Kill a worker (SIGKILL) and start a new one this often, in seconds. */
  killEverySeconds?: number;
  /** Restart Redis once, when this share of the questions has been sent. */
  restartRedisAt?: number;
  settleTimeoutMs: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  requests: number;
  answered: number;
  clearErrors: number;
  duplicates: number;
  lost: number;
  stuck: number;
  orphanPlaceholders: number;
  garbled: number;
  faults: Record<string, number>;
  workerKills: number;
  redisRestarts: number;
  seconds: number;
}

/** Columns that must be zero. */
export const MUST_BE_ZERO = ['duplicates', 'lost', 'stuck', 'orphanPlaceholders', 'garbled'] as const;

type Fault = { name: string; apply: (slack: FakeSlack, gateway: FakeGateway) => void; redeliver?: boolean };

const gatewayFault = (name: string, fault: ChatFault): Fault => ({ name, apply: (_s, g) => g.injectChatFault(fault) });
const FAULTS: Fault[] = [
  gatewayFault('gateway 500', { kind: 'status', status: 500, body: { error: { code: 'internal_endpoint_error', message: 'HTTP error', info: {} } } }),
  gatewayFault('gateway 429', { kind: 'status', status: 429, body: { detail: 'Too many requests.' } }),
  gatewayFault('gateway 503 not live', {
    kind: 'status',
    status: 503,
    body: { error: { code: 'internal_endpoint_error', message: "'Meta-Llama-3.1-8B-Instruct' is not currently live on Metis.", info: {} } },
  }),
  gatewayFault('gateway HTML 502', { kind: 'status', status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' }),
  gatewayFault('in-band error at start', { kind: 'in-band-error', afterChunks: 0 }),
  gatewayFault('in-band error mid-stream', { kind: 'in-band-error', afterChunks: 3 }),
  gatewayFault('stream dropped', { kind: 'drop', afterChunks: 2 }),
  gatewayFault('stream stalled', { kind: 'stall', afterChunks: 1 }),
  gatewayFault('garbage stream', { kind: 'garbage' }),
  { name: 'Slack 429 on edit', apply: (s) => s.failNext('chat.update', { rateLimitedSeconds: 1 }) },
  { name: 'Slack msg_too_long', apply: (s) => s.failNext('chat.update', { error: 'msg_too_long' }) },
  { name: 'Slack 429 on post', apply: (s) => s.failNext('chat.postMessage', { rateLimitedSeconds: 1 }) },
  { name: 'event redelivered', apply: () => undefined, redeliver: true },
];


export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const redis = await startTestRedis();
  const slack = await startFakeSlack();
  slack.setUserName('U0HUMAN', 'Ada');
  const gateway = await startFakeGateway({ validTokens: ['valid-token'] });
  const prefix = `soak${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redis.url,
    INFERENCE_GATEWAY_URL: gateway.url,
    METIS_ACCESS_TOKEN: 'valid-token',
    QUEUE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'warn',
    METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.1',
    METIS_GATEWAY_RETRY_BASE_SECONDS: '0.1',
    METIS_GATEWAY_ATTEMPTS: '3',
    METIS_STREAM_IDLE_TIMEOUT_SECONDS: '2',
    METIS_MODEL_STATUS_TTL_SECONDS: '1',
    METIS_COLD_START_POLL_SECONDS: '1',
    METIS_COLD_START_TIMEOUT_SECONDS: '20',
    WORKER_LOCK_SECONDS: '3',
    WORKER_CONCURRENCY: '20',
    SHUTDOWN_GRACE_SECONDS: '2',
  };

  const procs: BotProcess[] = [];
  let inProcess: RunningService | undefined;
  const workers: BotProcess[] = [];
  const startWorker = () => {
    const w = runBot(['start', '--role', 'worker'], env);
    procs.push(w);
    workers.push(w);
    return w;
  };
  if (opts.processes) {
    procs.push(runBot(['start', '--role', 'listener'], env));
    for (let i = 0; i < opts.workers; i++) startWorker();
  } else {
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    inProcess = await startService(loadConfig(env), { role: 'all', logger: createLogger('warn', quiet) });
  }
  await slack.waitForSocket(1, 30_000);

  const faults: Record<string, number> = {};
  const questions: FakeMessage[] = [];
  const deliveries: Promise<void>[] = [];
  let workerKills = 0;
  let redisRestarts = 0;

  /** Delivers as Slack does: an envelope that is not acknowledged is sent again, a little later. */
  const deliver = async (m: FakeMessage, redeliver: boolean) => {
    const event = slack.eventFor(m, 'app_mention');
    for (let attempt = 0; attempt < 120; attempt++) {
      try {
        await slack.sendSocketEvent(event, { retryAttempt: attempt, timeoutMs: 3000 });
        break;
      } catch {
        await sleep(1000);
      }
    }
    if (redeliver) {
      await sleep(Math.random() * 2000);
      await slack.sendSocketEvent(event, { retryAttempt: 1, timeoutMs: 3000 }).catch(() => undefined);
    }
  };

  const killer =
    opts.processes && opts.killEverySeconds
      ? setInterval(() => {
          const victim = workers.shift();
          if (!victim) return;
          victim.child.kill('SIGKILL');
          workerKills++;
          startWorker();
          log(`killed a worker (${workerKills})`);
        }, opts.killEverySeconds * 1000)
      : undefined;

  const gap = 1000 / opts.ratePerSecond;
  for (let i = 0; i < opts.requests; i++) {
    if (opts.restartRedisAt !== undefined && redisRestarts === 0 && i >= opts.requests * opts.restartRedisAt) {
      log('restarting Redis');
      await redis.stop();
      await sleep(1000);
      await redis.start();
      redisRestarts++;
    }
    let redeliver = false;
    if (Math.random() < opts.faultRate) {
      const f = FAULTS[Math.floor(Math.random() * FAULTS.length)] as Fault;
      f.apply(slack, gateway);
      redeliver = f.redeliver === true;
      faults[f.name] = (faults[f.name] ?? 0) + 1;
    }
    const m = slack.postAsUser({ channel: `C0SOAK${i % 5}`, user: 'U0HUMAN', text: `<@${BOT_USER_ID}> soak question ${i}` });
    questions.push(m);
    deliveries.push(deliver(m, redeliver));
    if (i % 100 === 99) log(`sent ${i + 1} questions`);
    await sleep(gap);
  }
  await Promise.all(deliveries);
  if (killer) clearInterval(killer);

  // Settle: wait until no job is waiting, running or parked.
  const client = new Redis(redis.url);
  client.on('error', () => undefined);
  const queue = new Queue(ANSWER_QUEUE, { connection: client, prefix });
  queue.on('error', () => undefined);
  const unfinished = async () => {
    const c = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  };
  const settleBy = Date.now() + opts.settleTimeoutMs;
  while (Date.now() < settleBy && (await unfinished()) > 0) await sleep(500);
  await sleep(500);

  const result: SoakResult = {
    requests: questions.length,
    answered: 0,
    clearErrors: 0,
    duplicates: 0,
    lost: 0,
    stuck: await unfinished(),
    orphanPlaceholders: 0,
    garbled: 0,
    faults,
    workerKills,
    redisRestarts,
    seconds: 0,
  };
  for (const [i, q] of questions.entries()) {
    const mine = slack.botReplies(q.channel, q.ts);
    const expected = `You said: Ada: soak question ${i}`;
    const pending = mine.filter((m) => m.metadata?.event_type === 'metis_pending');
    const notices = mine.filter((m) => m.metadata?.event_type === 'metis_notice');
    const full = mine.filter((m) => m.metadata?.event_type === 'metis_answer' && m.text === expected);
    const jobKey = `${prefix}:answers:${answerJobId({ teamId: TEAM_ID, channel: q.channel, ts: q.ts })}`;
    const finished = Boolean(await client.hget(jobKey, 'finishedOn'));
    if (pending.length > 0 && finished) result.orphanPlaceholders++;
    if (full.length > 1 || notices.length > 1 || (full.length === 1 && notices.length > 0)) result.duplicates++;
    else if (full.length === 1) result.answered++;
    else if (notices.length === 1) result.clearErrors++;
    else if (mine.length === 0 && !(await client.exists(jobKey))) result.lost++;
    else if (pending.length === 0) result.garbled++;
  }

  await queue.close();
  client.disconnect();
  await stopAll(procs);
  await inProcess?.stop();
  await slack.close();
  await gateway.close();
  await (redis as TestRedis).cleanup();
  result.seconds = Math.round((Date.now() - started) / 1000);
  return result;
}

export function soakTable(r: SoakResult): string {
  const rows: [string, number | string, string][] = [
    ['requests', r.requests, ''],
    ['answered', r.answered, ''],
    ['clear errors', r.clearErrors, ''],
    ['duplicates', r.duplicates, 'must be 0'],
    ['lost', r.lost, 'must be 0'],
    ['stuck jobs', r.stuck, 'must be 0'],
    ['orphan placeholders', r.orphanPlaceholders, 'must be 0'],
    ['garbled', r.garbled, 'must be 0'],
    ['faults injected', Object.values(r.faults).reduce((a, b) => a + b, 0), Object.entries(r.faults).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['worker kills', r.workerKills, ''],
    ['Redis restarts', r.redisRestarts, ''],
    ['seconds', r.seconds, ''],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v, note]) => `${k.padEnd(width)}  ${String(v).padStart(6)}  ${note}`).join('\n');
}
