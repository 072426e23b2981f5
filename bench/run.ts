/**
 * `npm run bench`: where the time goes, end to end, against the fakes, with
 * the real service (listener and workers as separate processes, as deployed).
 * Prints a table with the targets beside the figures and writes
 * bench/results.json. `npm run bench -- --quick` is a short run (< 60 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { type FakeGateway, type FakeGatewayOptions, startFakeGateway } from '../test/fakes/gateway.ts';
import { APP_TOKEN, BOT_TOKEN, BOT_USER_ID, type FakeMessage, type FakeSlack, SIGNING_SECRET, startFakeSlack } from '../test/fakes/slack.ts';
import { freePort, startTestRedis, type TestRedis } from '../test/helpers/redis-server.ts';
import { sleep, waitFor } from '../test/helpers/wait.ts';
import { httpFlood } from './http-flood.ts';
import { bullmqAlone, libraryCosts } from './library-costs.ts';
import { commandStats, redisCalls, socketReads, watchCommands } from './redis-counts.ts';
import { answerTimes, callsPerAnswer } from './tiers.ts';

const QUICK = process.argv.includes('--quick');
/** The realistic model: 240 words at 50 a second (a 6 s answer); 60 words in a quick run. */
const REALISTIC_WORDS = QUICK ? 60 : 240;
/** `--only ack,throughput,…` runs some sections; `--cpu-prof` profiles the listener and worker processes (.cpuprofile files in bench/profiles). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const CPU_PROF = process.argv.includes('--cpu-prof');
/** `BENCH_BIN=/other/checkout/bin/metis-bot.js` runs another build of the bot (a before/after comparison on the same machine, same load). */
const BIN = process.env.BENCH_BIN ?? 'bin/metis-bot.js';
/** `--one-process`: the ack section runs the bot as one process (`--role all`), so acks are measured while the same process answers. */
const ONE_PROCESS = process.argv.includes('--one-process');
const want = (section: string) => !ONLY || ONLY.includes(section);

interface Proc {
  child: ChildProcess;
  lines: string[];
}

/** Every bot process started, so that a bench that fails part-way leaves none running. */
const spawned: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of spawned) if (c.exitCode === null) c.kill('SIGKILL');
});

function spawnNode(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(child);
  const lines: string[] = [];
  child.stdout?.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  child.stderr?.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  return { child, lines };
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** A running service against fresh fakes and a Redis of its own. */
interface Env {
  slack: FakeSlack;
  gateway: FakeGateway;
  redis: TestRedis;
  redisClient: Redis;
  procs: Proc[];
  eventsUrl: string;
  mode: 'socket' | 'http';
  stop(): Promise<void>;
}

async function startEnv(opts: {
  mode: 'socket' | 'http';
  workers: number;
  gateway?: FakeGatewayOptions;
  env?: Record<string, string>;
  /** Run at the shipped defaults: none of the tuned limits below (worker concurrency, budget, per-person cap). */
  defaults?: boolean;
  /** One process in the `all` role (listener and worker together) instead of separate ones. */
  oneProcess?: boolean;
}): Promise<Env> {
  const redis = await startTestRedis({ appendfsync: 'everysec' }); // as docker-compose runs it
  const slack = await startFakeSlack();
  slack.setUserName('U0HUMAN', 'Ada');
  const gateway = await startFakeGateway({ validTokens: ['valid-token'], randomSplits: false, ...opts.gateway });
  const port = await freePort();
  const base: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redis.url,
    INFERENCE_GATEWAY_URL: gateway.url,
    METIS_ACCESS_TOKEN: 'valid-token',
    QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    // Production's default level: what each request logs is part of its cost.
    LOG_LEVEL: 'info',
    METIS_GATEWAY_REQUESTS_PER_SECOND: '0',
    METIS_USER_CONCURRENCY: '0',
    WORKER_CONCURRENCY: '100',
    METIS_STATS_INTERVAL_SECONDS: '1',
    ...(opts.mode === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    ...opts.env,
  };
  if (opts.defaults) for (const tuned of ['METIS_GATEWAY_REQUESTS_PER_SECOND', 'METIS_USER_CONCURRENCY', 'WORKER_CONCURRENCY']) delete base[tuned];
  const profile = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : [];
  const one = opts.oneProcess === true;
  const procs: Proc[] = [spawnNode([...profile, BIN, 'start', '--role', one ? 'all' : 'listener'], { ...base, PORT: String(port) })];
  for (let i = 0; i < (one ? 0 : opts.workers); i++) procs.push(spawnNode([...profile, BIN, 'start', '--role', 'worker'], { ...base, PORT: '0' }));
  for (const p of procs) await waitFor(() => p.lines.some((l) => l.includes('metis-bot is running')), 'the service to start', 30_000);
  if (opts.mode === 'socket') await slack.waitForSocket(1, 10_000);
  const redisClient = new Redis(redis.url);
  return {
    slack,
    gateway,
    redis,
    redisClient,
    procs,
    mode: opts.mode,
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    async stop() {
      // SIGTERM lets a profiled process write its profile.
      for (const p of procs) p.child.kill(CPU_PROF ? 'SIGTERM' : 'SIGKILL');
      if (CPU_PROF) await Promise.all(procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)))));
      redisClient.disconnect();
      await slack.close();
      await gateway.close();
      await redis.cleanup();
    },
  };
}

let counter = 0;
/** Sends one mention the way the env's mode delivers; resolves with the ack time. */
async function send(env: Env, text?: string, user = 'U0HUMAN'): Promise<{ m: FakeMessage; sentAt: number; ackMs: number }> {
  counter++;
  // Spread over many channels: Slack allows about one post a second per channel, and the bot spaces each
  // channel's posts to match, so a few channels would measure that limit rather than the bot.
  const m = env.slack.postAsUser({ channel: `C0B${counter % 1000}`, user, text: `<@${BOT_USER_ID}> ${text ?? `bench question ${counter}`}` });
  const event = env.slack.eventFor(m, 'app_mention');
  const sentAt = Date.now();
  if (env.mode === 'http') {
    const r = await env.slack.sendHttpEvent(env.eventsUrl, event);
    return { m, sentAt, ackMs: r.ms };
  }
  const r = await env.slack.sendSocketEvent(event, { timeoutMs: 10_000 });
  return { m, sentAt, ackMs: r.ackMs };
}

/** Sends at a fixed rate for `seconds`, without waiting for acks (open loop). */
async function openLoop(env: Env, rate: number, seconds: number) {
  const results: Promise<{ m: FakeMessage; sentAt: number; ackMs: number }>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    results.push(send(env));
  }
  return Promise.all(results);
}

const isFinal = (m: FakeMessage) => m.metadata?.event_type === 'metis_answer';

async function answersDone(env: Env, ms: FakeMessage[], timeoutMs: number) {
  // Each poll looks only at the questions still unanswered, so the driver's own CPU stays small next to the service's.
  let pending = ms;
  await waitFor(() => {
    pending = pending.filter((m) => !env.slack.botReplies(m.channel, m.ts).some(isFinal));
    return pending.length === 0;
  }, 'all answers', timeoutMs);
}

/** When Slack first showed something in the thread of `m`, and when the answer became final. */
function timeline(env: Env, m: FakeMessage) {
  const calls = env.slack.calls;
  const first = calls.find((c) => c.method === 'chat.postMessage' && c.params.thread_ts === m.ts);
  const reply = env.slack.botReplies(m.channel, m.ts)[0];
  const finalEdit = reply
    ? [...calls].reverse().find((c) => (c.method === 'chat.update' || c.method === 'chat.postMessage') && (c.params.ts === reply.ts || c.params.thread_ts === m.ts) && JSON.stringify(c.params.metadata ?? '').includes('metis_answer'))
    : undefined;
  return { firstAt: first?.at, finalAt: finalEdit?.at };
}

type WorkerStats = { rssMb: number; heapUsedMb: number; loopLagP99Ms: number; gcPauseMaxMs: number; majorGcs: number; at: number };

/** The workers' once-a-second stats lines, each with the time it was written. */
function workerStats(env: Env): WorkerStats[] {
  return env.procs
    .slice(1)
    .flatMap((p) => p.lines)
    .map((l) => {
      try {
        const line = JSON.parse(l) as { stats?: Omit<WorkerStats, 'at'>; time: number };
        return line.stats ? { ...line.stats, at: line.time } : undefined;
      } catch {
        return undefined;
      }
    })
    .filter((s): s is WorkerStats => Boolean(s));
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU used by each part of the system while `run` runs. */
async function cpuDuring(env: Env, run: () => Promise<void>): Promise<Record<string, number>> {
  const parts: Record<string, () => number> = {
    listener: () => cpuSeconds(env.procs[0]?.child.pid),
    workers: () => env.procs.slice(1).reduce((a, p) => a + cpuSeconds(p.child.pid), 0),
    redis: () => cpuSeconds(env.redis.pid()),
    'fakes and driver': () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
  };
  const before = Object.fromEntries(Object.entries(parts).map(([k, f]) => [k, f()]));
  await run();
  return Object.fromEntries(Object.entries(parts).map(([k, f]) => [k, round(f() - (before[k] ?? 0), 2)]));
}

const results: Record<string, unknown> = { quick: QUICK, date: new Date().toISOString(), node: process.version };
const rows: [string, string, string][] = [];
const row = (name: string, value: string, target = '') => {
  rows.push([name, value, target]);
  console.error(`bench: ${name}: ${value}${target ? `   (target ${target})` : ''}`);
};

/** A listener's once-a-second stats line, as far as the ack section reads it. */
type Own = { ackP99Ms: number; ackMaxMs: number; loopLagP99Ms: number; loopLagMaxMs: number; gcPauseMaxMs: number; majorGcs: number };

// 1 + 2. Ack latency at 50/200/500 events/s, both modes; first sign of life at 50/s.
const ACK_SECONDS = QUICK ? 1 : 30;
/** `--ack-modes=http` and `--ack-rates=50,200` narrow the ack section (a quick look at one case). */
const listArg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(',');
const ACK_MODES = (listArg('ack-modes') ?? ['http', 'socket']) as ('http' | 'socket')[];
const ACK_RATES = (listArg('ack-rates') ?? ['50', '200', '500']).map(Number);
for (const mode of want('ack') ? ACK_MODES : []) {
  const env = await startEnv({ mode, workers: 1, oneProcess: ONE_PROCESS });
  // A freshly started process runs its code unoptimised for its first few thousand events; measure the
  // service as it runs in steady state, after a warm-up that is not counted (and whose answers are awaited).
  const warmUp = await openLoop(env, 100, QUICK ? 1 : 5);
  await answersDone(env, warmUp.map((s) => s.m), 60_000);
  await sleep(1000);
  for (const rate of ACK_RATES) {
    const linesBefore = env.procs[0]?.lines.length ?? 0;
    const sent = await openLoop(env, rate, ACK_SECONDS);
    await sleep(1100); // the listener's stats line for the last second
    const acks = sent.map((s) => s.ackMs);
    // The listener's own view: from receiving the event to acknowledging it (no driver or network in it).
    const own = (env.procs[0]?.lines.slice(linesBefore) ?? [])
      .map((l) => {
        try {
          return JSON.parse(l).stats as Own | undefined;
        } catch {
          return undefined;
        }
      })
      .filter((x): x is Own => x?.ackP99Ms !== undefined);
    const ownP99 = round(Math.max(...own.map((x) => x.ackP99Ms)), 2);
    row(`… listener's own ack time ${mode} @${rate}/s, worst per-second p99 ms`, String(ownP99), '');
    // What the tail is: the seconds whose ack p99 is over 20 ms, with the process's event-loop lag and longest GC pause in them.
    const slow = own.filter((x) => x.ackP99Ms > 20);
    const worst = own.find((x) => x.ackP99Ms === Math.max(...own.map((y) => y.ackP99Ms)));
    results[`ack_${mode}_${rate}_seconds`] = { seconds: own.length, over20ms: slow.length, worst };
    row(
      `… seconds with own ack p99 > 20 ms; the worst second's loop lag p99 / max, longest GC pause, major GCs`,
      `${slow.length} of ${own.length}; ${worst?.loopLagP99Ms} / ${worst?.loopLagMaxMs} ms, ${worst?.gcPauseMaxMs} ms, ${worst?.majorGcs}`,
      '',
    );
    results[`ack_${mode}_${rate}`] = { p50: round(pct(acks, 50)), p99: round(pct(acks, 99)), max: round(Math.max(...acks)), n: acks.length, listenerOwnP99: ownP99 };
    row(`ack ${mode} @${rate}/s p50/p99/max ms`, `${round(pct(acks, 50))} / ${round(pct(acks, 99))} / ${round(Math.max(...acks))}`, rate === 200 ? 'p99 ≤ 20' : rate === 500 ? 'max ≪ 3000' : '');
    if (rate === 50) {
      await answersDone(env, sent.map((s) => s.m), 60_000);
      const life = sent.map((s) => (timeline(env, s.m).firstAt ?? Number.NaN) - s.sentAt).filter(Number.isFinite);
      results[`first_sign_${mode}`] = { p50: pct(life, 50), p99: pct(life, 99) };
      row(`first sign of life ${mode} @50/s p50/p99 ms`, `${pct(life, 50)} / ${pct(life, 99)}`, 'p50 ≤ 50, p99 ≤ 250');
    }
    await sleep(QUICK ? 300 : 1000);
  }
  await env.stop();
}

// 3 + 6. Overhead per answer, zero-latency and realistic models.
for (const model of want('overhead') ? (['zero-latency', 'realistic'] as const) : []) {
  const realistic = model === 'realistic';
  const env = await startEnv({
    mode: 'socket',
    workers: 1,
    gateway: realistic ? { chunkDelayMs: 20, reply: () => 'word '.repeat(REALISTIC_WORDS).trim() } : {},
  });
  const before = await redisCalls(env.redisClient);
  const n = QUICK ? (realistic ? 10 : 50) : realistic ? 60 : 300;
  const oneAtATime = QUICK ? 2 : 10;
  const sentTotal = n + oneAtATime; // and those asked one at a time for the round-trip count
  const sent = await openLoop(env, realistic ? 5 : 20, n / (realistic ? 5 : 20));
  await answersDone(env, sent.map((s) => s.m), 120_000);
  const redisPerAnswer = ((await redisCalls(env.redisClient)) - before) / n;
  const overhead: number[] = [];
  const modelMs: number[] = [];
  for (const s of sent) {
    const t = timeline(env, s.m);
    const req = env.gateway.chatRequests.find((r) => JSON.stringify(r.body).includes(s.m.text.split('> ')[1] as string));
    if (!t.finalAt || !req?.finishedAt) continue;
    modelMs.push(req.finishedAt - req.at);
    overhead.push(t.finalAt - s.sentAt - (req.finishedAt - req.at));
  }
  // Round trips: Redis's count of socket reads it processed (a pipeline arrives as one) during a few
  // answers asked one at a time. MONITOR, meanwhile, names the commands (those a Lua script runs
  // inside Redis are not round trips, and are left out).
  const roundTrips = await (async () => {
    const readsBefore = await socketReads(env.redisClient);
    let count = 0;
    const byCommand: Record<string, number> = {};
    const stopWatching = await watchCommands(env.redis.url, (args, source) => {
      const name = String(args[0]).toLowerCase();
      if (source === 'lua' || name === 'info') return;
      count++;
      byCommand[name] = (byCommand[name] ?? 0) + 1;
    });
    const k = oneAtATime;
    for (let i = 0; i < k; i++) {
      const one = await send(env);
      await answersDone(env, [one.m], 30_000);
    }
    await sleep(200);
    stopWatching();
    // Our own INFO calls and the MONITOR connection's setup are a handful of reads in all.
    const reads = (await socketReads(env.redisClient)) - readsBefore - 3;
    results[`redis_commands_${model}`] = Object.fromEntries(
      Object.entries(byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([c, v]) => [c, round(v / k, 1)]),
    );
    results[`redis_client_commands_per_answer_${model}`] = round(count / k, 1);
    return reads / k;
  })();
  const byMethod: Record<string, number> = {};
  // Start-up calls (auth.test, apps.connections.open) are not per answer.
  for (const c of env.slack.calls) if (c.method.startsWith('chat.') || c.method.startsWith('conversations.') || c.method === 'users.info') byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  const slackPerAnswer = Object.fromEntries(Object.entries(byMethod).map(([k, v]) => [k, round(v / sentTotal, 2)]));
  const streamSeconds = modelMs.length ? pct(modelMs, 50) / 1000 : 0;
  const gatewayPerAnswer = round(env.gateway.requests.filter((r) => !r.path.endsWith('/status')).length / sentTotal, 2);
  results[`overhead_${model}`] = { p50: pct(overhead, 50), p99: pct(overhead, 99), modelP50Ms: pct(modelMs, 50) };
  results[`cost_${model}`] = {
    redisRoundTripsPerAnswer: round(roundTrips),
    redisCommandsPerAnswerInclScripts: round(redisPerAnswer),
    slackCallsPerAnswer: slackPerAnswer,
    gatewayCallsPerAnswer: gatewayPerAnswer,
  };
  row(`overhead ${model} p50/p99 ms (model ${round(pct(modelMs, 50) / 1000, 2)} s)`, `${pct(overhead, 50)} / ${pct(overhead, 99)}`, model === 'zero-latency' ? 'p50 ≤ 25' : '');
  const slackTotal = Object.values(slackPerAnswer).reduce((a, b) => a + b, 0);
  row(
    `Slack calls per answer (${model})`,
    `${round(slackTotal, 2)} (${Object.entries(slackPerAnswer).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `≤ ${round(2 + streamSeconds, 1)} (2 + 1/s of streaming)`,
  );
  row(
    `Redis round trips per answer (${model}, asked one at a time: all background polling counted); client commands; commands incl. inside scripts`,
    `${round(roundTrips)}; ${results[`redis_client_commands_per_answer_${model}`]}; ${round(redisPerAnswer)}`,
    model === 'zero-latency' ? '≤ 15 round trips' : '',
  );
  row(`gateway calls per answer (${model})`, String(gatewayPerAnswer), '');
  await env.stop();
}

/** BullMQ's Lua scripts by their SHA-1 (as ioredis sends them with EVALSHA), to name the scripts a run called. */
async function bullmqScriptNames(): Promise<Map<string, string>> {
  const { createHash } = await import('node:crypto');
  const scripts = Object.values((await import('bullmq/dist/esm/scripts/index.js')) as unknown as Record<string, { name?: string; content?: string }>);
  return new Map(scripts.filter((s) => typeof s.content === 'string').map((s) => [createHash('sha1').update(s.content as string).digest('hex'), s.name as string]));
}

// Issue 17's floor: what one answer costs with a zero-latency model, one listener and one worker.
async function costSection() {
  if (!want('cost')) return;
  const env = await startEnv({ mode: 'socket', workers: 1 });
  const n = QUICK ? 300 : 2000;
  // Warm-up (not counted): a freshly started process runs unoptimised code for its first few thousand events.
  const warm = await Promise.all(Array.from({ length: QUICK ? 100 : 500 }, () => send(env)));
  await answersDone(env, warm.map((s) => s.m), 120_000);
  await sleep(1000);

  // a) Saturation: n answers asked at once. Redis's counts and the two bot processes' CPU (read from /proc:
  // the fakes and this driver run in the bench's own process, so they are not in it).
  await env.redisClient.config('RESETSTAT');
  const started = Date.now();
  const cpu = await cpuDuring(env, async () => {
    // In batches of 250 (each sent at once, the next when its acks are in): on a shared machine 2,000
    // unacknowledged envelopes at once can outlast the driver's ack timeout.
    const sent: Awaited<ReturnType<typeof send>>[] = [];
    for (let i = 0; i < n; i += 250) sent.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => send(env)))));
    await answersDone(env, sent.map((s) => s.m), 300_000);
  });
  const seconds = (Date.now() - started) / 1000;
  const stats = await commandStats(env.redisClient);
  delete stats.info;
  delete stats.config;
  const total = Object.values(stats).reduce((a, b) => a + b, 0);
  const byCommand = Object.fromEntries(
    Object.entries(stats)
      .sort((a, b) => b[1] - a[1])
      .map(([c, v]) => [c, round(v / n, 2)]),
  );
  const scriptCalls = (stats.evalsha ?? 0) + (stats.eval ?? 0) + (stats.fcall ?? 0);
  const productMs = ((cpu.listener ?? 0) + (cpu.workers ?? 0)) * 1000;

  // b) Which scripts: MONITOR (which slows Redis, so in a separate, smaller run) names each EVALSHA.
  const names = await bullmqScriptNames();
  const scripts: Record<string, number> = {};
  let clientIssued = 0;
  const sampled = QUICK ? 50 : 200;
  // MONLOG=/tmp/file keeps every command of the sample, with its source (a client or "lua"), to see where each goes.
  const monlog: string[] = [];
  const stopWatching = await watchCommands(env.redis.url, (args, source) => {
    const name = String(args[0]).toLowerCase();
    if (process.env.MONLOG) monlog.push(`${source} ${args.map((a) => String(a).slice(0, 60)).join(' ')}`);
    if (source !== 'lua' && name !== 'info') clientIssued++;
    if (source === 'lua' || !['evalsha', 'eval', 'fcall'].includes(name)) return;
    const script = name === 'evalsha' ? (names.get(String(args[1])) ?? `ours ${String(args[1]).slice(0, 8)}`) : name === 'eval' ? `eval ${String(args[1]).replace(/\\n|\s+/g, ' ').trim().slice(0, 40)}` : String(args[1]);
    scripts[script] = (scripts[script] ?? 0) + 1;
  });
  const sample = await Promise.all(Array.from({ length: sampled }, () => send(env)));
  await answersDone(env, sample.map((s) => s.m), 120_000);
  await sleep(200);
  stopWatching();
  if (process.env.MONLOG) writeFileSync(process.env.MONLOG, monlog.join('\n'));
  const scriptsPerAnswer = Object.fromEntries(
    Object.entries(scripts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / sampled, 2)]),
  );

  // c) Latency at a fixed 50 questions a second: from the event sent to the final answer in Slack.
  const paced = await openLoop(env, 50, QUICK ? 4 : 20);
  await answersDone(env, paced.map((s) => s.m), 120_000);
  const finals = paced.map((s) => (timeline(env, s.m).finalAt ?? Number.NaN) - s.sentAt).filter(Number.isFinite);

  // d) BullMQ alone: what one job costs Redis with nothing else around it (same options, no work), the floor under
  // any design that gives each question a job of its own.
  const alone = await bullmqAlone(env.redis.url, QUICK ? 300 : 2000);

  results.cost = {
    answers: n,
    redisCommandsPerAnswer: round(total / n, 1),
    redisCommandsByCommand: byCommand,
    scriptCallsPerAnswer: round(scriptCalls / n, 2),
    clientIssuedCommandsPerAnswer: round(clientIssued / sampled, 1),
    scriptsPerAnswer,
    productCpuMsPerAnswer: round(productMs / n, 2),
    cpuMsPerAnswer: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / n, 2)])),
    answersPerSecond: round(n / seconds),
    finalAnswerAt50PerSecond: { p50: pct(finals, 50), p99: pct(finals, 99), n: finals.length },
    bullmqAlonePerJob: alone,
  };
  row(`cost: Redis commands per answer (server's count, scripts' own commands included; ${n} answers at once)`, String(round(total / n, 1)), '≤ 15');
  row(
    '… by command',
    Object.entries(byCommand)
      .filter(([, v]) => v >= 0.05)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    '',
  );
  row(`… commands the bot sends (a script call counts once; sampled over ${sampled})`, String(round(clientIssued / sampled, 1)), '');
  row(`… script calls per answer; which (sampled over ${sampled})`, `${round(scriptCalls / n, 2)}; ${Object.entries(scriptsPerAnswer).map(([k, v]) => `${k} ${v}`).join(', ')}`, '');
  row('… product CPU ms per answer (listener + worker processes)', `${round(productMs / n, 2)} (listener ${round(((cpu.listener ?? 0) * 1000) / n, 2)}, worker ${round(((cpu.workers ?? 0) * 1000) / n, 2)}; Redis ${round(((cpu.redis ?? 0) * 1000) / n, 2)}, fakes and driver ${round(((cpu['fakes and driver'] ?? 0) * 1000) / n, 2)})`, '≤ 3');
  row('… BullMQ alone, per job (add, take, finish; the same options and load, no work): Redis commands as Redis counts them; script calls; CPU ms', `${alone.commands}; ${alone.scriptCalls}; ${alone.cpuMs}`, '');
  row('… answers/s, 1 listener + 1 worker', String(round(n / seconds)), '≥ 500');
  row('… final answer at 50 q/s p50/p99 ms', `${pct(finals, 50)} / ${pct(finals, 99)}`, 'p50 ≤ 10, p99 ≤ 25');
  await env.stop();
}

await costSection();

// The libraries on an answer's path, on their own: the CPU floor under the cost above.
if (want('cost') || want('libraries')) {
  const costs = await libraryCosts(QUICK);
  results.libraryCpuMsPerCall = costs;
  for (const [what, ms] of Object.entries(costs)) row(`library floor: ${what}, CPU ms per call (with a minimal local server)`, String(ms), '');
}

// 4. Saturation throughput with a zero-latency model: 1, 2, 4 workers.
// A quick run leaves out 4 workers (more processes than cores: a contention check, not a capacity one).
const WORKER_COUNTS = QUICK ? [1, 2] : [1, 2, 4];
for (const workers of want('throughput') ? WORKER_COUNTS : []) {
  const env = await startEnv({ mode: 'socket', workers });
  const n = QUICK ? 300 : 2000;
  const started = Date.now();
  const readsBefore = await socketReads(env.redisClient);
  const cpu = await cpuDuring(env, async () => {
    const sent = await Promise.all(Array.from({ length: n }, () => send(env)));
    await answersDone(env, sent.map((s) => s.m), 300_000);
  });
  const seconds = (Date.now() - started) / 1000;
  const roundTripsUnderLoad = round(((await socketReads(env.redisClient)) - readsBefore) / n);
  const perSecond = round(n / seconds);
  const cpuMsPerAnswer = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / n, 2)]));
  results[`throughput_${workers}w`] = { answersPerSecond: perSecond, cpuMsPerAnswer, wallSeconds: round(seconds, 2), redisRoundTripsPerAnswer: roundTripsUnderLoad };
  row(`throughput, 1 listener + ${workers} worker(s), answers/s`, String(perSecond), workers === WORKER_COUNTS.at(-1) ? `≥ 300 (best of ${WORKER_COUNTS.join('/')})` : '');
  row(
    `… CPU ms per answer (2 cores in all)`,
    Object.entries(cpuMsPerAnswer)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    '',
  );
  row(`… Redis round trips per answer at this load`, String(roundTripsUnderLoad), workers === 1 ? '≤ 15' : '');
  await env.stop();
}

// 5. 1,000 concurrent slow streams (5 tokens/s) in one worker.
if (want('streams')) {
  const streams = QUICK ? 200 : 1000;
  const env = await startEnv({
    mode: 'socket',
    workers: 1,
    gateway: { chunkDelayMs: 200, reply: () => 'slow '.repeat(QUICK ? 15 : 60).trim() },
    env: { WORKER_CONCURRENCY: String(streams) },
  });
  const sent = await Promise.all(Array.from({ length: streams }, () => send(env)));
  await waitFor(() => env.gateway.chatRequests.length >= streams, 'all streams to start', 60_000);
  const streamingFrom = Date.now();
  await answersDone(env, sent.map((s) => s.m), 180_000);
  const stats = workerStats(env);
  const peakRss = Math.max(...stats.map((s) => s.rssMb));
  const peakHeap = Math.max(...stats.map((s) => s.heapUsedMb));
  const lagP99 = Math.max(...stats.map((s) => s.loopLagP99Ms));
  // Holding the streams: the seconds after all of them had started (each stats line covers the second before it).
  const holding = stats.filter((s) => s.at >= streamingFrom + 1000);
  const holdLagP99 = Math.max(...holding.map((s) => s.loopLagP99Ms));
  // What the worst second held: its longest garbage-collection pause, and how many major collections.
  const worstHeld = holding.find((s) => s.loopLagP99Ms === holdLagP99);
  const heldQuiet = holding.filter((s) => s.majorGcs === 0).map((s) => s.loopLagP99Ms);
  const quietLagP99 = heldQuiet.length ? Math.max(...heldQuiet) : Number.NaN;
  // Streaming edits (not the final ones) while all streams ran, against the fleet's edit budget (default 45 a minute).
  const streamingEdits = env.slack.calls.filter(
    (c) => c.method === 'chat.update' && c.at >= streamingFrom && (c.params.metadata as { event_type?: string } | undefined)?.event_type === 'metis_pending',
  ).length;
  const editsPerSecond = round(streamingEdits / ((Date.now() - streamingFrom) / 1000), 2);
  results.concurrency = {
    streams,
    peakRssMb: peakRss,
    peakHeapMb: peakHeap,
    holdingLoopLagP99Ms: holdLagP99,
    holdingWorstSecond: { gcPauseMaxMs: worstHeld?.gcPauseMaxMs, majorGcs: worstHeld?.majorGcs },
    holdingLoopLagP99MsWithoutMajorGc: quietLagP99,
    worstLoopLagP99Ms: lagP99,
    streamingEditsPerSecond: editsPerSecond,
  };
  row(`${streams} concurrent slow streams in one worker: RSS / heap MB`, `${peakRss} / ${peakHeap}`, 'RSS ≤ 300');
  row(`… event-loop lag p99 while holding them (worst second) ms`, String(holdLagP99), '≤ 50');
  row(
    `… that second's longest GC pause ms, major GCs; worst second without a major GC, ms`,
    `${worstHeld?.gcPauseMaxMs}, ${worstHeld?.majorGcs}; ${quietLagP99}`,
    '',
  );
  row(`… event-loop lag p99, worst second including the start of all ${streams} at once, ms`, String(lagP99), '');
  row(`… streaming edits a second, whole fleet (chat.update is Tier 3: 50+ a minute per workspace)`, String(editsPerSecond), '≤ 0.75 (METIS_SLACK_EDITS_PER_MINUTE=45)');
  await env.stop();
}

// 7. Under the real budget: a burst against a gateway enforcing 10 requests/s.
if (want('budget')) {
  const n = QUICK ? 24 : 500;
  const env = await startEnv({ mode: 'socket', workers: 1, gateway: { requestsPerSecond: 10 }, env: { METIS_GATEWAY_REQUESTS_PER_SECOND: '8' } });
  const started = Date.now();
  const sent = await Promise.all(Array.from({ length: n }, () => send(env)));
  await answersDone(env, sent.map((s) => s.m), 600_000);
  const seconds = (Date.now() - started) / 1000;
  const rate = n / seconds;
  results.budget = { requests: n, seconds: round(seconds), answersPerSecond: round(rate, 2), shareOfBudget: round(rate / 8, 3), gateway429s: env.gateway.throttledCount() };
  row(`burst of ${n} under the 8/s budget: answers/s, share of budget, 429s`, `${round(rate, 2)}, ${round((rate / 8) * 100)}%, ${env.gateway.throttledCount()}`, '≥ 95%, 0');
  await env.stop();
}

/** chat.update calls in all, and in the busiest second. */
function updatesPerSecond(env: Env, from: number): { total: number; peak: number } {
  const bySecond = new Map<number, number>();
  for (const c of env.slack.calls) {
    if (c.method !== 'chat.update' || c.at < from) continue;
    const s = Math.floor(c.at / 1000);
    bySecond.set(s, (bySecond.get(s) ?? 0) + 1);
  }
  return { total: [...bySecond.values()].reduce((a, b) => a + b, 0), peak: Math.max(0, ...bySecond.values()) };
}

// 9. A busy day at the shipped defaults: 1,000 one-minute answers (5 tokens/s) asked at once by 1,000 people.
if (want('busy')) {
  const n = QUICK ? 200 : 1000;
  const words = QUICK ? 60 : 300; // 200 ms apart: 12 s / 60 s
  const env = await startEnv({ mode: 'socket', workers: 1, defaults: true, gateway: { chunkDelayMs: 200, reply: () => 'busy '.repeat(words).trim() } });
  const started = Date.now();
  // In batches of 100 (within a second or two), so the driver's acks do not time out on a busy machine.
  const sent: Awaited<ReturnType<typeof send>>[] = [];
  for (let i = 0; i < n; i += 100) sent.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => send(env, undefined, `U0P${i + j}`)))));
  await waitFor(() => env.gateway.chatRequests.length >= 1, 'the first stream', 60_000);
  const firstStreamAt = Date.now();
  await waitFor(() => env.gateway.chatRequests.length >= n, 'all streams to start', 600_000);
  const allStartedS = (Date.now() - started) / 1000;
  await answersDone(env, sent.map((s) => s.m), 600_000);
  const seconds = (Date.now() - started) / 1000;
  const stats = workerStats(env);
  const holding = stats.filter((s) => s.at >= firstStreamAt + 1000);
  const peakRss = Math.max(...stats.map((s) => s.rssMb));
  const holdLagP99 = Math.max(...holding.map((s) => s.loopLagP99Ms));
  const worstHeld = holding.find((s) => s.loopLagP99Ms === holdLagP99);
  const lagP99 = Math.max(...stats.map((s) => s.loopLagP99Ms));
  const slack = updatesPerSecond(env, started);
  results.busy = {
    questions: n,
    answerSeconds: words / 5,
    allStartedSeconds: round(allStartedS),
    allAnsweredSeconds: round(seconds),
    peakRssMb: peakRss,
    holdingLoopLagP99Ms: holdLagP99,
    holdingWorstSecond: { gcPauseMaxMs: worstHeld?.gcPauseMaxMs, majorGcs: worstHeld?.majorGcs },
    worstLoopLagP99Ms: lagP99,
    chatUpdates: slack,
  };
  row(`busy day at the defaults: ${n} × ${words / 5} s answers asked at once, all started / all answered, s`, `${round(allStartedS)} / ${round(seconds)}`, n === 1000 ? '≤ 240 answered' : '');
  row(`… peak RSS MB; event-loop lag p99 while holding them (worst second) ms, its GC pause ms`, `${peakRss}; ${holdLagP99}, ${worstHeld?.gcPauseMaxMs}`, 'RSS < 300; lag < 50');
  row(`… chat.update calls in all, in the busiest second`, `${slack.total}, ${slack.peak}`, '');
  await env.stop();
}

// 11. Slack's tiers enforced (Tier 2 ≈ 20/min, Tier 3 ≈ 50/min, Tier 4 ≈ 100/min per method; posts ≈ 1/s per channel),
// SLACK_STREAMING=auto: N answers asked at once across N/10 channels, each streamed by the model for a while.
// `--tiers-n=100 --tiers-seconds=12` sizes it (default 1,000 × 60 s; --quick 100 × 12 s).
if (want('tiers')) {
  const arg = (name: string) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]);
  const n = arg('tiers-n') || (QUICK ? 100 : 1000);
  const answerSeconds = arg('tiers-seconds') || (QUICK ? 12 : 60);
  const words = Math.round(answerSeconds * 5); // one word every 200 ms
  const channels = Math.max(1, Math.ceil(n / 10));
  // At least two workers, so the tiers are shared through Redis as a fleet shares them; at most 500 answers each.
  const workers = Math.max(2, Math.ceil(n / 500));
  // Slack's side at the shipped defaults (streaming auto, the fleet's budgets for edits, streams, appends and
  // statuses; 500 answers per worker); the gateway's request budget is lifted so that all of them stream at once.
  const env = await startEnv({
    mode: 'socket',
    workers,
    gateway: { chunkDelayMs: 200, reply: () => 'tok '.repeat(words).trim() },
    env: { WORKER_CONCURRENCY: String(Math.ceil(n / workers)) },
  });
  env.slack.enforceTiers();
  const started = Date.now();
  const sent: FakeMessage[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, (_, j) => {
      const k = i + j;
      const m = env.slack.postAsUser({ channel: `C0T${k % channels}`, user: `U0T${k}`, text: `<@${BOT_USER_ID}> tiers question ${k}` });
      return env.slack.sendSocketEvent(env.slack.eventFor(m, 'app_mention'), { timeoutMs: 10_000 }).then(() => m);
    });
    sent.push(...(await Promise.all(batch)));
  }
  // Streaming at once: from when the last of them has asked the model.
  await waitFor(() => env.gateway.chatRequests.length >= n, 'all answers to stream', 120_000);
  const streamingFrom = Date.now();
  await answersDone(env, sent, 900_000);
  const seconds = (Date.now() - started) / 1000;
  const times = answerTimes(env.slack, sent, env.gateway.chatRequests, 'tok');
  const visibleAfterModel = times.map((t) => (t.wholeAt ?? Number.NaN) - t.modelFinishedAt).filter(Number.isFinite).map((ms) => ms / 1000);
  const firstText = times.map((t) => (t.firstTextAt ?? Number.NaN) - t.modelStartedAt).filter(Number.isFinite).map((ms) => ms / 1000);
  const native = times.filter((t) => t.native).length;
  const limited = [...env.slack.rateLimited.entries()];
  const stats = workerStats(env);
  const peakRss = Math.max(...stats.map((s) => s.rssMb));
  // Event-loop lag while they all stream (each stats line covers the second before it), and while they start.
  const holdLagP99 = Math.max(...stats.filter((s) => s.at >= streamingFrom + 1000).map((s) => s.loopLagP99Ms));
  const startLagP99 = Math.max(...stats.filter((s) => s.at < streamingFrom + 1000).map((s) => s.loopLagP99Ms));
  const calls = callsPerAnswer(env.slack, started, n);
  const callsTotal = round(Object.values(calls).reduce((a, b) => a + b, 0), 2);
  results.tiers = {
    answers: n,
    workers,
    answerSeconds,
    channels,
    allAnsweredSeconds: round(seconds),
    callsPerAnswer: calls,
    callsPerAnswerTotal: callsTotal,
    holdingLoopLagP99Ms: holdLagP99,
    startingLoopLagP99Ms: startLagP99,
    // Each worker's per-second lag p99 and GC pause, seconds after the start: where the worst seconds fall.
    lagBySecond: stats.map((s) => [round((s.at - started) / 1000, 0), s.loopLagP99Ms, s.gcPauseMaxMs]),
    nativeShare: round(native / n, 3),
    slack429s: Object.fromEntries(limited),
    peakRssMb: peakRss,
    visibleAfterModelSeconds: { p50: round(pct(visibleAfterModel, 50)), p99: round(pct(visibleAfterModel, 99)), max: round(Math.max(...visibleAfterModel)) },
    firstTextAfterFirstTokenSeconds: { p50: round(pct(firstText, 50)), p99: round(pct(firstText, 99)) },
  };
  const perAnswer = Object.entries(calls).map(([m, k]) => `${m} ${k}`).join(', ');
  row(`tiers enforced, shipped defaults, ${workers} workers: ${n} × ${answerSeconds} s answers at once in ${channels} channels: all answered s; Slack calls per answer`, `${round(seconds)}; ${callsTotal} (${perAnswer})`, '≤ 6 calls');
  row('… streamed natively; 429s from Slack; peak RSS of a worker MB', `${round((native / n) * 100)}%; ${limited.reduce((a, [, k]) => a + k, 0)}${limited.length ? ` (${limited.map(([m, k]) => `${m} ${k}`).join(', ')})` : ''}; ${peakRss}`, '0 429s; RSS ≤ 250');
  row('… event-loop lag p99, worst second: while all stream; while they start (1,000 gates and model requests in a few seconds) ms', `${holdLagP99}; ${startLagP99}`, 'streaming ≤ 50');
  row('… model finished → whole answer visible p50/p99/max s', `${round(pct(visibleAfterModel, 50))} / ${round(pct(visibleAfterModel, 99))} / ${round(Math.max(...visibleAfterModel))}`, 'all ≤ 15');
  row("… model's first token → first visible text p50/p99 s", `${round(pct(firstText, 50))} / ${round(pct(firstText, 99))}`, '');
  await env.stop();
}

// 10. One person's flood waiting its turn at the defaults: parked questions wake every 500 ms; their notes must not flood Slack.
if (want('parked')) {
  const n = QUICK ? 100 : 500;
  const env = await startEnv({ mode: 'socket', workers: 1, defaults: true, gateway: { chunkDelayMs: 50, reply: () => 'short answer '.repeat(5).trim() } });
  const started = Date.now();
  const sent: Awaited<ReturnType<typeof send>>[] = [];
  for (let i = 0; i < n; i += 100) sent.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => send(env)))));
  await answersDone(env, sent.map((s) => s.m), 900_000);
  const seconds = (Date.now() - started) / 1000;
  const slack = updatesPerSecond(env, started);
  const noteEdits = env.slack.calls.filter((c) => c.method === 'chat.update' && JSON.stringify(c.params.blocks ?? '').includes('earlier questions')).length;
  results.parked = { questions: n, seconds: round(seconds), chatUpdates: slack.total, peakUpdatesPerSecond: slack.peak, noteEdits };
  row(`${n} questions from one person (cap 3 running): chat.update calls in all, busiest second; waiting-note edits`, `${slack.total}, ${slack.peak}; ${noteEdits}`, `≈ 1 final per answer; notes within the edit budget`);
  row(`… all answered, s`, String(round(seconds)), '');
  await env.stop();
}

// HTTP mode while 500 connections hold bodies just under the cap (forged signatures, dated now): the
// listener's memory, and whether correctly signed events are still acknowledged within Slack's 3 s.
if (want('http-flood')) {
  const env = await startEnv({ mode: 'http', workers: 1 });
  const flood = await httpFlood({ eventsUrl: env.eventsUrl, listenerPid: env.procs[0]?.child.pid as number, slack: env.slack, botUserId: BOT_USER_ID, quick: QUICK });
  results.httpFlood = flood;
  row(
    `HTTP flood: ${flood.holders} held connections (${flood.connectionsOpened} opened in ${flood.floodSeconds} s): listener RSS MB before / peak / after`,
    `${flood.rssMb.before} / ${flood.rssMb.peakDuring} / ${flood.rssMb.after}`,
    'peak < 400',
  );
  row(
    '… signed events during it: acked/sent, p50/p99/max ms, failed or past 3 s',
    `${flood.signedAcks.ok}/${flood.signedAcks.sent}, ${flood.signedAcks.p50Ms} / ${flood.signedAcks.p99Ms} / ${flood.signedAcks.maxMs}, ${flood.signedAcks.past3s}`,
    'all acked, max < 3000, 0',
  );
  row('… /healthz during it, slowest ms', String(flood.healthzMaxMs), '< 3000 (stalled 10 s before the front)');
  await env.stop();
}

// 8. The same-run baseline: the model called inline, before Slack's request is answered.
if (want('baseline') && results.ack_http_50) {
  const slack = await startFakeSlack();
  const gateway = await startFakeGateway({ validTokens: ['valid-token'], randomSplits: false, chunkDelayMs: 20, reply: () => 'word '.repeat(REALISTIC_WORDS).trim() });
  const port = await freePort();
  const baseline = spawnNode(['--import', 'tsx', 'bench/inline-baseline.ts'], {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    INFERENCE_GATEWAY_URL: gateway.url,
    PORT: String(port),
  });
  await waitFor(() => baseline.lines.some((l) => l.includes('baseline is running')), 'the baseline', 30_000);
  const env = { slack, gateway, mode: 'http', eventsUrl: `http://127.0.0.1:${port}/slack/events` } as unknown as Env;
  const sent = await openLoop(env, 5, QUICK ? 2 : 12);
  const acks = sent.map((s) => s.ackMs);
  const late = acks.filter((a) => a > 3000).length;
  const ours = results.ack_http_50 as { p99: number };
  results.baseline = { ackP99Ms: round(pct(acks, 99)), acksPast3s: late, of: acks.length, oursAckP99Ms: ours.p99, ratio: round(pct(acks, 99) / ours.p99) };
  row('inline baseline (realistic model): ack p99 ms, acks past 3 s', `${round(pct(acks, 99))}, ${late} of ${acks.length}`, '');
  row('… ack p99, inline ÷ metis-bot (HTTP, 50/s)', `${round(pct(acks, 99) / ours.p99)}×`, '');
  baseline.child.kill('SIGKILL');
  await slack.close();
  await gateway.close();
}

const width = Math.max(...rows.map((r) => r[0].length));
const table = [
  `| measure | result | target |`,
  `|---|---|---|`,
  ...rows.map(([k, v, t]) => `| ${k} | ${v} | ${t} |`),
].join('\n');
console.log(table);
console.error(rows.map(([k, v, t]) => `${k.padEnd(width)}  ${v}${t ? `   [${t}]` : ''}`).join('\n'));
results.table = table;
// A partial run (--only) leaves the full run's file alone and writes its own.
writeFileSync(new URL(ONLY ? './results-partial.json' : './results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
