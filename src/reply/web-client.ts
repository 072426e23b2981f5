/**
 * The Web API client workers use, and the one place Slack API errors are
 * read. Rate-limited calls are rejected at once (not retried for half an
 * hour, the library default) so a stale streaming edit is never replayed
 * minutes later; the answer writer decides what to resend. A native
 * stream's appends are not idempotent (a retried append that had landed
 * would show its text twice): they go through a client with no retries.
 */
import { WebClient, LogLevel, type Logger as SlackLogger, type WebAPICallResult } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import { countSlackCall } from '../metrics/instrument.ts';

/**
 * Counts each call and failure (metrics) from what the client already parsed:
 * counting at the fetch instead read every answer a second time.
 */
class CountedWebClient extends WebClient {
  override apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    return countSlackCall(method, () => super.apiCall(method, options), (err) => slackFailure(err)?.error);
  }
}

export function createWebClient(token: string, apiUrl: string, logger: Logger, fetch?: typeof globalThis.fetch, opts: { retries?: number } = {}): WebClient {
  return new CountedWebClient(token, {
    slackApiUrl: apiUrl,
    fetch,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: opts.retries ?? 2, minTimeout: 200, maxTimeout: 2000, factor: 2 },
    timeout: 15_000,
    logger: slackLogger(logger),
    logLevel: LogLevel.WARN,
  });
}

/** Adapts pino to the logger interface @slack packages expect. */
export function slackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const child = logger.child({ component: 'slack-sdk' });
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackFailure {
  /** Slack's error string (`msg_too_long`, `channel_not_found`, …) or `ratelimited`. */
  error: string;
  retryAfterMs?: number;
}

/** Reads a thrown @slack/web-api error; undefined when it is not one. */
export function slackFailure(err: unknown): SlackFailure | undefined {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number };
  if (e?.code === 'slack_webapi_rate_limited_error') return { error: 'ratelimited', retryAfterMs: (e.retryAfter ?? 1) * 1000 };
  if (e?.code === 'slack_webapi_platform_error') return { error: e.data?.error ?? 'unknown_error' };
  if (e?.code === 'slack_webapi_request_error' || e?.code === 'slack_webapi_http_error') return { error: 'request_failed' };
  return undefined;
}

/**
 * Runs a Slack call, waiting out Slack's Retry-After when it says "ratelimited"
 * (at most `tries` calls, each wait at most `maxWaitMs`); other errors are rethrown.
 */
export async function withRateLimitWait<T>(call: () => Promise<T>, opts: { tries: number; maxWaitMs?: number; stop?: () => boolean }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const f = slackFailure(err);
      if (f?.error !== 'ratelimited' || attempt >= opts.tries || opts.stop?.()) throw err;
      await new Promise((r) => setTimeout(r, Math.min(opts.maxWaitMs ?? 60_000, f.retryAfterMs ?? 1000)));
    }
  }
}

/** Errors after which nothing more can be posted to this conversation. */
export const CONVERSATION_GONE = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'thread_not_found', 'access_denied']);
