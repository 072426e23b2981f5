/**
 * The process's Prometheus metrics (GET /metrics). Labels carry only bounded
 * vocabularies (outcomes, Slack method names and error codes, HTTP statuses),
 * never a user id, message text or token.
 *
 * One registry per process, like pino's logger: modules record with one line
 * (`questions.inc({ outcome })`). Numbers that live in Redis (queue depth, the
 * gateway budget, the token's expiry) are read when scraped, from the sources
 * the running service registers with `setScrapeSources`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Seconds: from a tenth of a second (acks) to a quarter hour (a long answer after a cold start). */
const LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900];

export const questions = new Counter({
  name: 'metis_questions_total',
  help: 'Questions finished, by outcome (answered, usage, error, conversation_gone, cancelled, refused, limited, failed).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const ackSeconds = new Histogram({
  name: 'metis_slack_ack_seconds',
  help: 'Time from receiving a Slack event to acknowledging it.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
  registers: [registry],
});

export const firstSignOfLifeSeconds = new Histogram({
  name: 'metis_answer_first_sign_of_life_seconds',
  help: 'Time from the question reaching the bot to its placeholder showing in Slack.',
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const firstTextSeconds = new Histogram({
  name: 'metis_answer_first_text_seconds',
  help: "Time from the question reaching the bot to the model's first visible text.",
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const totalSeconds = new Histogram({
  name: 'metis_answer_total_seconds',
  help: 'Time from the question reaching the bot to its request being finished, by outcome.',
  labelNames: ['outcome'] as const,
  buckets: LATENCY_BUCKETS_SECONDS,
  registers: [registry],
});

export const gatewayRequests = new Counter({
  name: 'metis_gateway_requests_total',
  help: 'HTTP requests to the inference gateway, by route (chat, models, jobs, whoami, other) and HTTP status.',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});

export const gatewayErrors = new Counter({
  name: 'metis_gateway_errors_total',
  help: 'Gateway requests that failed, by route and code (the HTTP status, or network).',
  labelNames: ['route', 'code'] as const,
  registers: [registry],
});

export const slackCalls = new Counter({
  name: 'metis_slack_api_calls_total',
  help: 'Slack Web API calls, by method.',
  labelNames: ['method'] as const,
  registers: [registry],
});

export const slackErrors = new Counter({
  name: 'metis_slack_api_errors_total',
  help: "Slack Web API calls that failed, by method and Slack's error code.",
  labelNames: ['method', 'error'] as const,
  registers: [registry],
});

export const slackRateLimited = new Counter({
  name: 'metis_slack_rate_limited_total',
  help: 'Slack Web API calls answered 429 (ratelimited), by method.',
  labelNames: ['method'] as const,
  registers: [registry],
});

export const tokenRenewals = new Counter({
  name: 'metis_access_token_renewals_total',
  help: 'Metis access token renewals by this process, by mode and result (ok, failed).',
  labelNames: ['mode', 'result'] as const,
  registers: [registry],
});

export const answersStreaming = new Gauge({
  name: 'metis_answers_streaming',
  help: 'Answers this process is streaming into Slack now.',
  registers: [registry],
});

/** Where scrape-time numbers come from; each returns undefined when it has nothing to say. */
export interface ScrapeSources {
  /** BullMQ's own job counts by state. */
  queueCounts?: () => Promise<Record<string, number>>;
  /** Age of the oldest question waiting for a worker, in seconds (0 when none waits). */
  oldestWaitSeconds?: () => Promise<number>;
  /** Gateway requests counted in the fleet's current one-second window, and the limit (0 = none). */
  gatewayBudget?: () => Promise<{ inUse: number; limit: number }>;
  /** The shared token's mode and expiry (epoch ms); undefined for a static token. */
  token?: () => Promise<{ mode: string; expiresAtMs: number } | undefined>;
}

let sources: ScrapeSources = {};

/** Registers the running service's sources (the last service started in this process wins). */
export function setScrapeSources(s: ScrapeSources): void {
  sources = s;
}

new Gauge({
  name: 'metis_queue_jobs',
  help: 'Questions in the queue, by BullMQ state (waiting, delayed, active, prioritized, …).',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const counts = await sources.queueCounts?.().catch(() => undefined);
    for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
  },
});

new Gauge({
  name: 'metis_queue_oldest_wait_seconds',
  help: 'How long the oldest question waiting for a worker has waited.',
  registers: [registry],
  async collect() {
    const s = await sources.oldestWaitSeconds?.().catch(() => undefined);
    if (s !== undefined) this.set(s);
  },
});

new Gauge({
  name: 'metis_gateway_budget_requests_in_use',
  help: "Gateway requests in the fleet's current one-second budget window.",
  registers: [registry],
  async collect() {
    const b = await sources.gatewayBudget?.().catch(() => undefined);
    if (b) this.set(b.inUse);
  },
});

new Gauge({
  name: 'metis_gateway_budget_requests_per_second',
  help: 'The fleet-wide gateway request budget per second (0 = unlimited).',
  registers: [registry],
  async collect() {
    const b = await sources.gatewayBudget?.().catch(() => undefined);
    if (b) this.set(b.limit);
  },
});

new Gauge({
  name: 'metis_access_token_expiry_timestamp_seconds',
  help: 'When the shared Metis access token expires (Unix seconds), by mode; absent for a static token.',
  labelNames: ['mode'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const t = await sources.token?.().catch(() => undefined);
    if (t) this.set({ mode: t.mode }, Math.round(t.expiresAtMs / 1000));
  },
});

/** Seconds since an epoch-ms instant (never negative: clocks of two hosts may differ a little). */
export function secondsSince(epochMs: number): number {
  return Math.max(0, (Date.now() - epochMs) / 1000);
}
