/**
 * Translates what the inference gateway answers into MetisError. The gateway
 * has several error envelopes (see the gateway contract): `{"detail": …}` from
 * its framework, `{"error": {"code", "message", "info"}}` from its own logic,
 * nginx's `{"error": "Rate limit exceeded", …}`, and HTML pages.
 */
import { AccessTokenRejected, MetisError } from '../errors.ts';

/** What we know of one failed gateway response. */
export interface GatewayFailure {
  status: number;
  body: unknown;
  model?: string;
}

/** A 401 the gateway gives for a token that is simply expired or inactive: renewing fixes it. */
export const EXPIRED_TOKEN_MESSAGES = [/not active or invalid/i, /access token expired/i];

function errorObject(body: unknown): { code?: string; message?: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (b.error && typeof b.error === 'object') {
      const e = b.error as Record<string, unknown>;
      return {
        code: typeof e.code === 'string' ? e.code : undefined,
        message: typeof e.message === 'string' ? e.message : undefined,
      };
    }
    if (typeof b.error === 'string') return { code: 'edge', message: b.error };
    if (typeof b.detail === 'string') return { code: 'detail', message: b.detail };
    if (Array.isArray(b.detail)) return { code: 'validation', message: JSON.stringify(b.detail).slice(0, 500) };
  }
  return {};
}

/** The gateway's own message for a failure, cut short, for logs only. */
export function failureSummary(f: GatewayFailure): string {
  const { code, message } = errorObject(f.body);
  if (code || message) return `${f.status} ${code ?? ''} ${message ?? ''}`.trim().slice(0, 300);
  return `${f.status} ${typeof f.body === 'string' ? f.body.slice(0, 120) : ''}`.trim();
}

/**
 * SambaNova's refusal of a prompt longer than the model's context window
 * (`context_length_exceeded`, "The maximum context length of X is N. However,
 * answering your request will take M tokens."), however the gateway wrapped it
 * (§2.4): only these words are matched, not the whole text, which is unverified.
 */
const CONTEXT_TOO_LONG = /context_length_exceeded|maximum context length|context length (?:is |was )?exceeded|exceeds? the (?:model'?s? )?(?:maximum )?context/i;

export function isContextTooLong(text: string): boolean {
  return CONTEXT_TOO_LONG.test(text);
}

/** A context-length refusal, with the numbers it gave when it gave them (they are not secret). */
function contextTooLong(text: string, summary: string, model: string | undefined): MetisError {
  const limit = /maximum context length of .*? is (\d+)/i.exec(text)?.[1];
  const needed = /will take (\d+) tokens/i.exec(text)?.[1];
  return new MetisError('context_too_long', summary, {
    model,
    ...(limit ? { contextTokens: Number(limit) } : {}),
    ...(needed ? { requestTokens: Number(needed) } : {}),
  });
}

export function translateGatewayFailure(f: GatewayFailure): MetisError {
  const { code, message = '' } = errorObject(f.body);
  const model = f.model;
  const summary = failureSummary(f);
  // 413 is an edge proxy refusing the body's size: too long too, whatever its page says.
  if (f.status === 413 || ((f.status === 400 || f.status === 422) && isContextTooLong(message || String(f.body ?? ''))))
    return contextTooLong(message || String(f.body ?? ''), summary, model);
  switch (f.status) {
    case 401:
    case 403: {
      const renewable = code === 'detail' ? /missing/i.test(message) : EXPIRED_TOKEN_MESSAGES.some((re) => re.test(message));
      return new AccessTokenRejected(renewable, `gateway refused the token: ${summary}`);
    }
    case 404:
      if (code === 'endpoint_not_found') return new MetisError('model_not_found', summary, { model });
      return new MetisError('internal', `gateway route not found (check INFERENCE_GATEWAY_URL and INFERENCE_CLUSTER): ${summary}`);
    case 400:
    case 405:
    case 413:
    case 422:
      return new MetisError('bad_request', summary, { model });
    case 429:
      if (code === 'too_many_requests') return new MetisError('token_rate_limited', summary, { model }, true);
      return new MetisError('rate_limited', summary, { model }, true);
    case 503:
      if (code === 'cluster_under_maintenance')
        return new MetisError('maintenance', summary, { notice: message.slice(0, 300) || undefined });
      if (code === 'detail' && /maintenance/i.test(message)) return new MetisError('maintenance', summary, {});
      if (/not currently live/i.test(message)) return new MetisError('model_not_live', summary, { model });
      return new MetisError('gateway_unavailable', summary, { model, status: f.status }, true);
    case 504:
      return new MetisError('gateway_timeout', summary, { model, status: f.status }, true);
    default:
      if (f.status >= 500) return new MetisError('gateway_unavailable', summary, { model, status: f.status }, true);
      return new MetisError('internal', `unexpected gateway answer: ${summary}`, { status: f.status });
  }
}

/** The gateway reports a failed upstream stream inside a 200 response as a content chunk. */
export const IN_BAND_ERROR_ID = 'chatcmpl-api-error';
export const IN_BAND_ERROR_PREFIX = '\n\n[ERROR] ';

export function translateInBandError(content: string, model: string): MetisError {
  const text = content.slice(0, 300);
  if (/Timeout calling stream API/i.test(content)) return new MetisError('gateway_timeout', `in-band: ${text}`, { model }, true);
  if (isContextTooLong(content)) return contextTooLong(content, `in-band: ${text}`, model);
  return new MetisError('model_error', `in-band: ${text}`, { model }, true);
}
