/**
 * The bot's small error vocabulary, and the one function that turns an error
 * into the words a person sees in Slack (the words themselves are in
 * src/words.ts, the one table of words users see). Outside libraries' errors
 * are translated into MetisError where they are called (gateway/, auth/,
 * slack/).
 *
 * User messages never include tokens, secrets or raw upstream bodies: the
 * operator gets those (redacted) in the log line; the user gets what happened
 * and what to do.
 */

import { type ErrorDetails, WORDS } from './words.ts';

export type { ErrorDetails } from './words.ts';
export { USAGE_TEXT } from './words.ts';
export { FILE_SKIP_WORDS, type FileRead, type FileSkipped, type FileSkipReason, filesNote } from './file-words.ts';

export type ErrorCode =
  | 'empty_prompt'
  | 'unknown_option'
  | 'unknown_model'
  | 'ambiguous_model'
  | 'no_models'
  | 'model_gone'
  | 'cold_start_timeout'
  | 'access_not_configured'
  | 'access_denied'
  | 'token_grant_failed'
  | 'model_not_found'
  | 'model_not_live'
  | 'maintenance'
  | 'bad_request'
  | 'rate_limited'
  | 'token_rate_limited'
  | 'gateway_unavailable'
  | 'gateway_timeout'
  | 'stream_dropped'
  | 'model_error'
  | 'internal'
  | 'slack_busy'
  | 'context_too_long'
  | 'default_model_unknown'
  | 'button_not_live_model'
  | 'button_not_this_request'
  | 'question_too_long'
  | 'question_too_long_everywhere';

export class MetisError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    /** Worth trying again later (before anything was shown to the user). */
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MetisError';
  }
}

/** The gateway refused the access token. */
export class AccessTokenRejected extends MetisError {
  constructor(
    /** True when a fresh token would fix it; false when a person must act (policy, IdP, group). */
    readonly renewable: boolean,
    message: string,
  ) {
    super('access_denied', message);
  }
}

export function isMetisError(err: unknown): err is MetisError {
  return err instanceof MetisError;
}

/** Every code has its words: this fails to compile when a code is added without them. */
const FAILURE_WORDS: Record<ErrorCode, (d: ErrorDetails) => string> = WORDS;

/** The one place that turns any failure into the short message a person sees in Slack. */
export function userMessageFor(err: unknown): string {
  if (!isMetisError(err)) return WORDS.unexpected();
  return FAILURE_WORDS[err.code](err.details);
}
