/**
 * Counting at the seams the service already has (the Slack client's one
 * apiCall, the gateway's fetch, the answer worker's events), so the modules
 * doing the work carry no metrics code beyond a line.
 */
import type { Job, Queue, Worker } from 'bullmq';
/** What the metrics read of a question's job (the queue's types sit above this layer). */
interface TimedJobData {
  receivedAt: number;
}
import {
  answersStreaming,
  gatewayErrors,
  gatewayRequests,
  questions,
  secondsSince,
  slackCalls,
  slackErrors,
  slackRateLimited,
  tokenRenewals,
  totalSeconds,
} from './registry.ts';

/**
 * Counts one Slack Web API call by method, and its failure by Slack's error
 * code (`errorOf` reads it from what the client threw: `ratelimited`,
 * `channel_not_found`…; no code is `request_failed`). For the clients the bot
 * builds itself (see reply/web-client.ts), which have already parsed the answer.
 */
export async function countSlackCall<T>(method: string, call: () => Promise<T>, errorOf: (err: unknown) => string | undefined): Promise<T> {
  slackCalls.inc({ method });
  try {
    return await call();
  } catch (err) {
    countSlackFailure(method, errorOf(err) ?? 'request_failed');
    throw err;
  }
}

/** One failed Slack call, by Slack's error code (a fixed vocabulary); a rate limit is also counted apart. */
function countSlackFailure(method: string, error: string): void {
  if (error === 'ratelimited') slackRateLimited.inc({ method });
  slackErrors.inc({ method, error: error.slice(0, 60) });
}

/**
 * The same count for a client the bot does not build (Bolt's own): at the
 * fetch level, because a client binds each method to its apiCall when it is
 * built; reads a copy of each answer for Slack's `ok: false`.
 */
export function countingSlackFetch(inner: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = new URL(url).pathname.split('/').pop() || 'unknown';
    slackCalls.inc({ method });
    let res: Response;
    try {
      res = await inner(input, init);
    } catch (err) {
      countSlackFailure(method, 'request_failed');
      throw err;
    }
    if (res.status === 429) countSlackFailure(method, 'ratelimited');
    else if (!res.ok) countSlackFailure(method, `http_${res.status}`);
    else if (res.headers.get('content-type')?.includes('application/json')) {
      // Read from a copy, off the caller's path; Slack's error strings are a fixed vocabulary.
      void (res
        .clone()
        .json() as Promise<{ ok?: boolean; error?: unknown } | undefined>)
        .then((body) => {
          if (body?.ok === false) countSlackFailure(method, typeof body.error === 'string' ? body.error : 'unknown_error');
        })
        .catch(() => undefined);
    }
    return res;
  };
}

/** The gateway route a URL is for: a fixed set, so no model name or id becomes a label. */
function gatewayRoute(url: string): string {
  const path = new URL(url).pathname;
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/v1/models')) return 'models';
  if (path.endsWith('/jobs')) return 'jobs';
  if (path.endsWith('/whoami')) return 'whoami';
  return 'other';
}

/** A fetch for the gateway client that counts requests by route and status, and failures by code. */
export function countingGatewayFetch(inner: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const route = gatewayRoute(url);
    try {
      const res = await inner(input, init);
      gatewayRequests.inc({ route, status: String(res.status) });
      if (res.status >= 400) gatewayErrors.inc({ route, code: String(res.status) });
      return res;
    } catch (err) {
      gatewayRequests.inc({ route, status: 'none' });
      gatewayErrors.inc({ route, code: (err as Error)?.name === 'AbortError' ? 'aborted' : 'network' });
      throw err;
    }
  };
}

/** Counts finished questions by outcome and observes their total time. */
export function observeAnswerWorker(worker: Worker<TimedJobData, { outcome?: string } | undefined>): void {
  const finished = (job: Job<TimedJobData>, outcome: string) => {
    questions.inc({ outcome });
    totalSeconds.observe({ outcome }, secondsSince(job.data.receivedAt));
  };
  worker.on('completed', (job, result) => finished(job, result?.outcome ?? 'answered'));
  // Only a job that has given up for good (not one between attempts or parked) is finished.
  worker.on('failed', (job) => {
    if (job?.finishedOn) finished(job, 'failed');
  });
}

/** Wraps the stop function of a streaming answer so the gauge of answers streaming now follows it. */
export function countStreaming(stop: () => void): () => void {
  answersStreaming.inc();
  let stopped = false;
  return () => {
    if (!stopped) answersStreaming.dec();
    stopped = true;
    stop();
  };
}

/** Age of the oldest question waiting for a worker (waiting or prioritized), in seconds. */
export async function oldestWaitSeconds(queue: Queue): Promise<number> {
  const oldest = await Promise.all([queue.getJobs(['wait'], 0, 0, true), queue.getJobs(['prioritized'], 0, 0, true)]);
  const times = oldest.flat().map((j) => (j.data as Partial<TimedJobData>)?.receivedAt ?? j.timestamp);
  return times.length ? secondsSince(Math.min(...times)) : 0;
}

/** Counts one token renewal by its result, passing the renewal's value or error through. */
export function countRenewal<T>(mode: string, renewal: Promise<T>): Promise<T> {
  return renewal.then(
    (v) => {
      tokenRenewals.inc({ mode, result: 'ok' });
      return v;
    },
    (err: unknown) => {
      tokenRenewals.inc({ mode, result: 'failed' });
      throw err;
    },
  );
}
