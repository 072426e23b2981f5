/**
 * What an operator's probes and scraper see: /livez while the process serves,
 * /readyz that turns unready (naming why) when Redis stops or Slack's Socket
 * Mode connection drops and ready again when they return, and /metrics in
 * Prometheus text with every series after traffic and no secret in it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../src/metrics/registry.ts';
import { APP_TOKEN, BOT_TOKEN, SIGNING_SECRET } from '../fakes/slack.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
let redis: TestRedis | undefined;
afterEach(async () => {
  await h?.stop();
  await redis?.cleanup();
  h = undefined;
  redis = undefined;
});

async function get(path: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(`http://127.0.0.1:${h?.service.port}${path}`);
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

type Readiness = { status: string; checks: Record<string, string>; failing?: Record<string, string> };
const readyz = async () => {
  const r = await get('/readyz');
  return { http: r.status, ...(JSON.parse(r.body) as Readiness) };
};

/** One sample of Prometheus text exposition: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format strictly: every line is a comment, blank, or a well-formed sample. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('/livez and /readyz', () => {
  it('turn unready naming Redis while it is stopped, and ready again when it returns', async () => {
    redis = await startTestRedis();
    h = await startHarness({ mode: 'socket', redisUrl: redis.url });
    expect((await get('/livez')).status).toBe(200);
    const ready = await readyz();
    expect(ready).toMatchObject({ http: 200, status: 'ready', checks: { redis: 'ok', slack: 'ok', workers: 'ok', metis_access: 'ok' } });

    await redis.stop();
    const down = await waitFor(async () => {
      const r = await readyz();
      return r.http === 503 ? r : undefined;
    }, 'an unready answer');
    expect(down.failing?.redis).toMatch(/Redis connection is/);
    // The process still serves: a liveness probe must not restart it for an outage of Redis.
    expect((await get('/livez')).status).toBe(200);

    await redis.start();
    await waitFor(async () => (await readyz()).http === 200, 'ready again after Redis returns', 15_000);
  });

  it('turn unready naming Slack when the Socket Mode connection drops, and ready again once reconnected', async () => {
    h = await startHarness({ mode: 'socket' });
    expect((await readyz()).http).toBe(200);
    expect(h.slack.dropSocketConnections()).toBe(1);
    const down = await waitFor(async () => {
      const r = await readyz();
      return r.http === 503 ? r : undefined;
    }, 'an unready answer');
    expect(down.failing).toEqual({ slack: 'the Socket Mode connection to Slack is down' });
    await h.slack.waitForSocket(1, 20_000);
    await waitFor(async () => (await readyz()).http === 200, 'ready again after reconnecting', 15_000);
  }, 30_000);

  it('turn unready when Metis access needs a person, with the fix', async () => {
    h = await startHarness({ mode: 'http', gateway: { validTokens: [] } });
    const m = await h.mention({ text: `<@U0BOT> hello` });
    await h.reply(m);
    const r = await readyz();
    expect(r.http).toBe(503);
    expect(Object.keys(r.failing ?? {})).toEqual(['metis_access']);
    expect(r.failing?.metis_access).toMatch(/Fix: /);
  });

  it('keep /healthz as it was', async () => {
    h = await startHarness({ mode: 'http' });
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', redis: 'ready' });
  });
});

describe('/metrics', () => {
  // One registry per process, like the logger: counts start afresh for each test here.
  beforeEach(() => registry.resetMetrics());

  it('serves Prometheus text with every series after traffic, and no secret', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_GATEWAY_REQUESTS_PER_SECOND: '50' } });
    for (const text of ['first question', 'second question']) {
      const m = await h.mention({ text: `<@U0BOT> ${text}` });
      await h.reply(m);
    }
    h.slack.failNext('chat.postMessage', { rateLimitedSeconds: 1 });
    const limited = await h.mention({ text: '<@U0BOT> third, after a 429' });
    await h.reply(limited, { timeoutMs: 15_000 });

    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const secret of [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, 'valid-token', 'U0HUMAN', 'first question']) expect(r.body).not.toContain(secret);

    const { samples, types } = parsePrometheus(r.body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    const has = (name: string) => samples.some((s) => s.name === name);

    expect(value('metis_questions_total', { outcome: 'answered' })).toBe(3);
    expect(types.get('metis_queue_jobs')).toBe('gauge');
    expect(value('metis_queue_jobs', { state: 'completed' })).toBe(3);
    expect(value('metis_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(value('metis_queue_oldest_wait_seconds')).toBe(0);
    for (const h of ['metis_slack_ack_seconds', 'metis_answer_first_sign_of_life_seconds', 'metis_answer_first_text_seconds', 'metis_answer_total_seconds']) {
      expect(types.get(h), h).toBe('histogram');
      expect(value(`${h}_count`), h).toBe(3);
      expect(value(`${h}_sum`), h).toBeGreaterThan(0);
    }
    // A first sign of life comes before the first text, which comes before the end.
    expect(value('metis_answer_first_sign_of_life_seconds_sum')).toBeLessThan(value('metis_answer_first_text_seconds_sum'));
    expect(value('metis_answer_first_text_seconds_sum')).toBeLessThan(value('metis_answer_total_seconds_sum', { outcome: 'answered' }));
    expect(value('metis_gateway_requests_total', { route: 'chat', status: '200' })).toBe(3);
    expect(types.get('metis_gateway_errors_total')).toBe('counter');
    expect(value('metis_gateway_budget_requests_per_second')).toBe(50);
    expect(value('metis_gateway_budget_requests_in_use')).toBeGreaterThanOrEqual(0);
    expect(has('metis_gateway_budget_requests_in_use')).toBe(true);
    expect(value('metis_slack_api_calls_total', { method: 'chat.postMessage' })).toBeGreaterThanOrEqual(4);
    expect(value('metis_slack_api_errors_total', { method: 'chat.postMessage', error: 'ratelimited' })).toBe(1);
    expect(value('metis_slack_rate_limited_total', { method: 'chat.postMessage' })).toBe(1);
    expect(types.get('metis_access_token_renewals_total')).toBe('counter');
    expect(types.get('metis_access_token_expiry_timestamp_seconds')).toBe('gauge');
    expect(value('metis_answers_streaming')).toBe(0);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(has('nodejs_eventloop_lag_seconds')).toBe(true);

    // The Grafana dashboard shows only series the bot serves.
    const dashboard = readFileSync(new URL('../../deploy/grafana/metis-bot.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/\b((?:metis|process|nodejs)_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_bucket$/, '')));
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect(types.has(name), name).toBe(true);
  });

  it('shows the token renewals and the expiry of a renewed token', async () => {
    h = await startHarness({ mode: 'http', globus: true });
    const m = await h.mention({ text: '<@U0BOT> hello' });
    await h.reply(m);
    const { samples } = parsePrometheus((await get('/metrics')).body);
    const renewals = samples.find((s) => s.name === 'metis_access_token_renewals_total' && s.labels.result === 'ok');
    expect(renewals?.labels.mode).toBe('client-credentials');
    expect(renewals?.value).toBeGreaterThanOrEqual(1);
    const expiry = samples.find((s) => s.name === 'metis_access_token_expiry_timestamp_seconds');
    expect(expiry?.labels.mode).toBe('client-credentials');
    expect(expiry?.value).toBeGreaterThan(Date.now() / 1000);
  });
});
