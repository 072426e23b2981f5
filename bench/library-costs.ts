/**
 * What the libraries on an answer's path cost on their own, in CPU per call,
 * against a minimal local HTTP server (the same answers every time, no
 * work): the floor under the product CPU per answer. Each figure is beside a
 * plain HTTP exchange of the same bytes, so the difference is the library's.
 * The server runs in this process, so every figure includes its share.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { GatewayClient } from '../src/gateway/client.ts';
import { createPooledFetch } from '../src/http/fetch.ts';
import { createLogger } from '../src/logger.ts';
import { createWebClient } from '../src/reply/web-client.ts';
import { commandStats } from './redis-counts.ts';

const SLACK_ANSWER = JSON.stringify({ ok: true, channel: 'C0BENCH', ts: '1700000000.000100', message: { text: 'an answer '.repeat(20) } });
/** A short answer, as the zero-latency fake model streams it: a role chunk, a few words, the finish with usage, [DONE]. */
const chunk = (delta: object, extra: object = {}) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, ...extra }] });
const SSE_ANSWER = [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: 6 }, (_, i) => chunk({ content: `word${i} ` })),
  chunk({}, { finish_reason: 'stop' }),
  '[DONE]',
]
  .map((d) => `data: ${d}\n\n`)
  .join('');

/** CPU milliseconds per call of `call`, `n` calls 20 at a time after a warm-up. */
async function cpuPerCall(call: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < Math.min(2000, n); i++) await call();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, call));
  return cpuMsPer(process.cpuUsage(before), n);
}

/** CPU milliseconds of `used` per one of `n`, to the microsecond. */
function cpuMsPer(used: NodeJS.CpuUsage, n: number): number {
  return Math.round(((used.user + used.system) / 1000 / n) * 1000) / 1000;
}

export async function libraryCosts(quick: boolean): Promise<Record<string, number>> {
  const n = quick ? 2000 : 10_000;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const sse = req.url?.includes('/chat/completions');
      res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json; charset=utf-8' }).end(sse ? SSE_ANSWER : SLACK_ANSWER);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const http = createPooledFetch();
  const slack = createWebClient('xoxb-bench', `${base}/api/`, createLogger('info'), http.fetch);
  const gateway = new GatewayClient({ baseUrl: base, cluster: 'metis', fetch: http.fetch });
  const text = 'an answer '.repeat(50);
  const out: Record<string, number> = {};
  try {
    out['plain HTTP exchange (the pooled fetch, a Slack-sized JSON answer)'] = await cpuPerCall(
      async () => (await http.fetch(`${base}/api/chat.postMessage`, { method: 'POST', body: new URLSearchParams({ channel: 'C0BENCH', text }) })).json(),
      n,
    );
    out['Slack Web API client, chat.postMessage'] = await cpuPerCall(
      () => slack.chat.postMessage({ channel: 'C0BENCH', text, metadata: { event_type: 'metis_answer', event_payload: { request_id: 'r1' } } }),
      n,
    );
    out['plain HTTP exchange (the pooled fetch, the streamed answer read whole)'] = await cpuPerCall(
      async () => (await http.fetch(`${base}/metis/api/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', stream: true }), headers: { 'content-type': 'application/json' } })).text(),
      n,
    );
    out['gateway client (openai), one streamed answer'] = await cpuPerCall(async () => {
      for await (const _ of gateway.streamChat({ token: 't', framework: 'api', model: 'm', messages: [{ role: 'user', content: 'hi' }], idleTimeoutMs: 10_000 }));
    }, n);
  } finally {
    server.close();
    await http.close();
  }
  return out;
}

/**
 * BullMQ on its own: n jobs added each on its own (as the listener adds them), 250 at a time, and processed by a
 * worker that does nothing, with the answer queue's options. Per job: Redis's count of commands (scripts' own
 * commands included) and script calls, and BullMQ's CPU, producer and consumer in this process (Redis's apart).
 */
export async function bullmqAlone(redisUrl: string, n: number): Promise<{ commands: number; scriptCalls: number; cpuMs: number }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = `alone${randomBytes(3).toString('hex')}`;
  const queue = new Queue('answers', { connection, prefix, defaultJobOptions: { attempts: 3, removeOnComplete: { age: 3600 }, removeOnFail: { age: 604_800 } } });
  let done = 0;
  const worker = new Worker('answers', async () => ({ outcome: 'answered' }), { connection, prefix, concurrency: 100 });
  worker.on('completed', () => done++);
  await worker.waitUntilReady();
  await connection.config('RESETSTAT');
  const before = process.cpuUsage();
  for (let i = 0; i < n; i += 250) await Promise.all(Array.from({ length: Math.min(250, n - i) }, (_, j) => queue.add('answer', { request: 'x'.repeat(300) }, { jobId: `j${i + j}` })));
  while (done < n) await new Promise((r) => setTimeout(r, 5));
  const used = process.cpuUsage(before);
  const { info: _info, config: _config, ...stats } = await commandStats(connection);
  await worker.close();
  await queue.close();
  connection.disconnect();
  const perJob = (x: number) => Math.round((x / n) * 100) / 100;
  return {
    commands: perJob(Object.values(stats).reduce((a, b) => a + b, 0)),
    scriptCalls: perJob((stats.evalsha ?? 0) + (stats.eval ?? 0)),
    cpuMs: cpuMsPer(used, n),
  };
}
