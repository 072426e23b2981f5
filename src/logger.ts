/**
 * One pino logger for the process. Secrets are redacted by path wherever they
 * could appear, and a child logger per request carries its id. Every line
 * names its host (in containers every worker is pid 1); on a terminal the
 * lines are shown readable instead of as JSON (pipe through `cat` for JSON).
 */
import { hostname } from 'node:os';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Field paths that may carry a secret; pino replaces their values. */
export const REDACT_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'refresh_token',
  'clientSecret',
  'client_secret',
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.authorization',
  '*.headers.authorization',
  'config.slack.botToken',
  'config.slack.appToken',
  'config.slack.signingSecret',
];

/** Field names that hold a secret at any depth of a logged error (an HTTP library's error can carry its request's headers). */
const SECRET_FIELDS = new Set([
  'token',
  'accesstoken',
  'access_token',
  'refresh_token',
  'clientsecret',
  'client_secret',
  'authorization',
  'bottoken',
  'apptoken',
  'signingsecret',
  'cookie',
  'set-cookie',
]);
const MAX_SCRUB_DEPTH = 8;

/** A copy of a logged value with secret-named fields censored at every depth (REDACT_PATHS only reach fixed depths). */
function withoutSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > MAX_SCRUB_DEPTH) return '[elided]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = SECRET_FIELDS.has(k.toLowerCase()) ? '[redacted]' : withoutSecrets(v, depth + 1, seen);
  // A Redis client's error names the command it failed on; AUTH and HELLO carry the password in their arguments.
  if (typeof copy.name === 'string' && /^(auth|hello)$/i.test(copy.name) && 'args' in copy) copy.args = '[redacted]';
  return copy;
}

/**
 * pino's standard error serializer (type, message and stack, each with its
 * `cause` chain, plus the error's own fields), with secret-named fields
 * censored however deep they sit.
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  if (out === null || typeof out !== 'object') return out;
  const fields = out as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key === 'type' || key === 'message' || key === 'stack') continue;
    fields[key] = SECRET_FIELDS.has(key.toLowerCase()) ? '[redacted]' : withoutSecrets(fields[key]);
  }
  return out;
}

/**
 * The logger; without a destination it writes JSON to stdout, or readable
 * lines when stdout is a terminal.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const pretty = !destination && process.stdout.isTTY === true;
  return pino(
    {
      name: 'metis-bot',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      base: { pid: process.pid, hostname: hostname() },
    },
    destination ?? (pretty ? prettyDestination(process.stdout) : undefined),
  );
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, left out of the readable form. */
const COMMON_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One JSON log line as a person reads it: `12:00:01.123 INFO  message key=value …`, then a stack if any. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([k]) => !COMMON_FIELDS.has(k))
    .map(([k, v]) => {
      const stack = k === 'err' && v && typeof v === 'object' ? (v as { stack?: unknown }).stack : undefined;
      if (typeof stack === 'string') return `${k}=${JSON.stringify({ ...(v as object), stack: undefined })}\n${stack}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return [time, level, entry.msg ?? '', ...fields].filter((p) => p !== '').join(' ');
}

function prettyDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${prettyLine(line)}\n`);
    },
  };
}

/**
 * Logs anything that escapes (a throw nobody caught, a rejection nobody
 * handled) as one fatal line with its stack, then ends the process: its state
 * is unknown, and the orchestrator restarts it.
 */
export function exitOnUncaught(logger: Logger): void {
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ err: err instanceof Error ? err : new Error(String(err)), kind }, `${kind}; exiting`);
    // pino writes synchronously to stdout by default; flush in case a destination buffers.
    logger.flush?.();
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
}
