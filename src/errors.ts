/**
 * The bot's small error vocabulary, and the one table that turns an error
 * into the words a person sees in Slack. Outside libraries' errors are
 * translated into MetisError where they are called (gateway/, auth/, slack/).
 *
 * User messages never include tokens, secrets or raw upstream bodies: the
 * operator gets those (redacted) in the log line; the user gets what happened
 * and what to do.
 */

import { inertEcho } from './inert-text.ts';

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

export interface ErrorDetails {
  model?: string;
  models?: string[];
  option?: string;
  /** Only for messages that quote the gateway's own safe text (maintenance notices). */
  notice?: string;
  status?: number;
  /** Where a remembered model came from: the thread or the channel default. */
  where?: 'thread' | 'channel';
  /** How long a wait lasted, in minutes. */
  waitedMinutes?: number;
  /** How long the other side asked us to wait before asking again. */
  retryAfterMs?: number;
  /** A model's context window, and what a refused request needed, in tokens (when the gateway said). */
  contextTokens?: number;
  requestTokens?: number;
  /** A setting's name, for messages about a bad setting. */
  setting?: string;
  /** A text's length in characters (a question too long for a model). */
  chars?: number;
}

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

const MAX_LISTED_MODELS = 12;

function listModels(models: string[] | undefined): string {
  if (!models || models.length === 0) return 'none are available to this account right now';
  const shown = models.slice(0, MAX_LISTED_MODELS).map((m) => `\`${inertEcho(m)}\``);
  const more = models.length > MAX_LISTED_MODELS ? ` and ${models.length - MAX_LISTED_MODELS} more` : '';
  return `${shown.join(', ')}${more}`;
}

const tokens = (n: number | undefined) => (n === undefined ? 'fewer tokens' : `${n.toLocaleString('en-US')} tokens`);

/** A question's size as counted: the token count is an upper bound, so it says "up to". */
function questionSize(d: ErrorDetails): string {
  const chars = d.chars !== undefined ? ` (${d.chars.toLocaleString('en-US')} characters)` : '';
  return `it may need up to ${tokens(d.requestTokens)}${chars}`;
}

export const USAGE_TEXT = [
  'Ask me anything: `@metis <your question>`. I answer in the thread, and a thread is our conversation.',
  'Pick a model with `-m <model>` (a unique part of the name is enough), e.g. `@metis -m 70b explain RDMA in two sentences`.',
].join('\n');

/** The one place that turns any failure into the short message a person sees in Slack. */
export function userMessageFor(err: unknown): string {
  if (!isMetisError(err)) {
    return ':warning: Something went wrong on my side while answering. The operators have the details in the logs; please try again in a minute.';
  }
  const d = err.details;
  switch (err.code) {
    case 'empty_prompt':
      return `:wave: ${USAGE_TEXT}`;
    case 'unknown_option':
      return `:grey_question: I don't know the option \`${inertEcho(d.option ?? '')}\`. Use \`-m <model>\` (or \`--model <model>\`) before your question.`;
    case 'unknown_model':
      return `:grey_question: There is no model matching \`${inertEcho(d.model ?? '')}\` on Metis. Available: ${listModels(d.models)}.`;
    case 'ambiguous_model':
      return `:grey_question: \`${inertEcho(d.model ?? '')}\` matches several models: ${listModels(d.models)}. Use more of the name.`;
    case 'model_gone':
      return d.where === 'channel'
        ? `:grey_question: This channel's default model \`${inertEcho(d.model ?? '')}\` is no longer offered by Metis. Pick one with \`-m <model>\`, or set a new default with \`/metis model <name>\`. Available: ${listModels(d.models)}.`
        : `:grey_question: This thread's model \`${inertEcho(d.model ?? '')}\` is no longer offered by Metis. Pick another with \`-m <model>\`. Available: ${listModels(d.models)}.`;
    case 'cold_start_timeout':
      return `:hourglass: \`${inertEcho(d.model ?? 'The model')}\` did not become Live on Metis within ${d.waitedMinutes ?? 'the'} min, so I stopped waiting. ${
        d.models?.length ? `Live now: ${listModels(d.models)}; ask again with \`-m <model>\`` : 'No model is Live right now; try again later'
      }, or see \`/metis-models\`.`;
    case 'no_models':
      return ':warning: Metis lists no models for this account right now, so there is nothing to ask. An administrator can check the account\'s access.';
    case 'access_not_configured':
    case 'token_grant_failed':
      return ':lock: I could not get access to Metis. An administrator needs to check the bot\'s Globus service account (details are in the bot\'s logs).';
    case 'access_denied':
      return ':lock: Metis refused the bot\'s credentials. An administrator needs to renew the bot\'s Metis access (details are in the bot\'s logs).';
    case 'model_not_found':
      return `:grey_question: Metis no longer offers \`${inertEcho(d.model ?? '')}\`. Pick another model with \`-m <model>\`.`;
    case 'model_not_live':
      return `:zzz: \`${inertEcho(d.model ?? 'That model')}\` is not live on Metis right now. Try again later, or pick a live model with \`-m <model>\`.`;
    case 'maintenance':
      return `:construction: Metis is under maintenance${d.notice ? `: ${inertEcho(d.notice)}` : '.'} Please try again later.`;
    case 'bad_request':
      return ':warning: Metis rejected the request as malformed. This is a bug in the bot; the operators have the details in the logs.';
    case 'rate_limited':
      return ':hourglass: Metis is receiving too many requests from this team right now. Please try again in a minute.';
    case 'token_rate_limited':
      return `:hourglass: The per-minute token limit for \`${inertEcho(d.model ?? 'this model')}\` is used up. Please try again in a minute.`;
    case 'gateway_unavailable':
      return ':warning: The Metis inference service is not responding properly right now. Please try again in a few minutes.';
    case 'gateway_timeout':
      return ':hourglass: Metis took too long to answer. Please try again, perhaps with a shorter question or another model.';
    case 'stream_dropped':
      return ':warning: The connection to Metis dropped before the answer was complete. Please ask again.';
    case 'model_error':
      return `:warning: \`${inertEcho(d.model ?? 'The model')}\` hit an error while answering. Please ask again, or try another model.`;
    case 'internal':
      return ':warning: Something went wrong on my side while answering. The operators have the details in the logs; please try again in a minute.';
    case 'slack_busy':
      return ':hourglass: Slack is asking me to slow down, so I could not check who may use me. Please try again in a minute.';
    case 'context_too_long': {
      const limit =
        d.contextTokens !== undefined
          ? ` (it takes at most ${d.contextTokens.toLocaleString('en-US')} tokens${d.requestTokens !== undefined ? `; this needed ${d.requestTokens.toLocaleString('en-US')}` : ''})`
          : '';
      return `:straight_ruler: This conversation is too long for \`${d.model ?? 'the model'}\`${limit}. Start a new thread (mention me outside this one), or ask again here with a model that takes a longer context: \`-m <model>\`, see \`/metis-models\`.`;
    }
    case 'default_model_unknown':
      return `:information_source: The bot's default model, \`${d.setting ?? 'METIS_DEFAULT_MODEL'}=${d.model ?? ''}\`, is not a model Metis offers, so I used \`${d.models?.[0] ?? 'another model'}\`. An administrator should fix the setting (\`/metis admin\` shows it).`;
    case 'button_not_live_model':
      return ":grey_question: That button does not name a model that is Live on Metis right now, so this channel's default is unchanged. `/metis-models` shows the current list.";
    case 'button_not_this_request':
      return ':grey_question: That button does not belong to the question it names, so I left both alone.';
    case 'question_too_long':
      return `:straight_ruler: Your question is too long for \`${inertEcho(d.model ?? 'this model')}\`: ${questionSize(d)}, and it takes ${tokens(d.contextTokens)} including its answer. I have not sent it. Live models that take it: ${listModels(d.models)}; ask again with \`-m <model>\`.`;
    case 'question_too_long_everywhere':
      return `:straight_ruler: Your question is too long for every model Live on Metis right now: ${questionSize(d)}${
        d.models?.[0] ? `, and the largest window, \`${inertEcho(d.models[0])}\`'s, is ${tokens(d.contextTokens)} including its answer` : ''
      }. I have not sent it. Please shorten it, or ask in parts.`;
  }
}

/** Why a file shared with a question was not read (see conversation/file-context.ts). */
export type FileSkipReason =
  | 'too_big'
  | 'total_cap'
  | 'too_many'
  | 'image'
  | 'binary'
  | 'login_page'
  | 'no_access'
  | 'not_found'
  | 'timeout'
  | 'external'
  | 'unreadable_pdf'
  | 'download_failed';

export interface FileSkipped {
  name: string;
  reason: FileSkipReason;
  /** The cap it went over, in bytes (too_big, total_cap). */
  limitBytes?: number;
  /** How many files one question reads (too_many). */
  limitFiles?: number;
}

export interface FileRead {
  name: string;
  /** Only its first `keptChars` characters went in (the rest was over the per-file or total cap). */
  truncated?: boolean;
  keptChars?: number;
}

function sizeWords(bytes: number | undefined): string {
  if (bytes === undefined) return 'the size limit';
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${bytes} bytes`;
}

/** The words for each reason a file was skipped; the one table for them. */
export const FILE_SKIP_WORDS: Record<FileSkipReason, (s: FileSkipped) => string> = {
  too_big: (s) => `over ${sizeWords(s.limitBytes)}`,
  total_cap: (s) => `the files together were over ${sizeWords(s.limitBytes)}`,
  too_many: (s) => `I read at most ${s.limitFiles ?? 'a few'} files per question`,
  image: () => 'images are not read by this model',
  binary: () => 'not a text file or PDF',
  login_page: () => 'Slack sent a sign-in page instead of the file',
  no_access: () => 'I may not open it',
  not_found: () => 'it was deleted',
  timeout: () => 'the download took too long',
  external: () => 'it is stored outside Slack',
  unreadable_pdf: () => 'no text could be read from the PDF',
  download_failed: () => 'the download failed',
};

const MAX_LISTED_FILES = 10;

function listFiles<T extends { name: string }>(items: T[], describe: (item: T) => string): string {
  const shown = items.slice(0, MAX_LISTED_FILES).map(describe);
  const more = items.length > MAX_LISTED_FILES ? ` and ${items.length - MAX_LISTED_FILES} more` : '';
  return `${shown.join(', ')}${more}`;
}

/**
 * The line that tells a person which shared files the answer read and which
 * it skipped and why ("Read: a.log, paper.pdf. Skipped: image.png (images
 * are not read by this model)."); undefined when no file was shared.
 * File names are a person's text, so they are echoed inert.
 */
export function filesNote(read: FileRead[], skipped: FileSkipped[]): string | undefined {
  if (read.length === 0 && skipped.length === 0) return undefined;
  const parts: string[] = [];
  if (read.length) {
    parts.push(
      `Read: ${listFiles(read, (r) => `${inertEcho(r.name)}${r.truncated ? ` (the first ${(r.keptChars ?? 0).toLocaleString('en-US')} characters)` : ''}`)}.`,
    );
  }
  if (skipped.length) {
    parts.push(`Skipped: ${listFiles(skipped, (s) => `${inertEcho(s.name)} (${FILE_SKIP_WORDS[s.reason](s)})`)}.`);
  }
  return `:paperclip: ${parts.join(' ')}`;
}
