/**
 * The one place that reads process.env. Every setting is validated at start;
 * bad values stop the process with one line each, naming the variable, what
 * was wrong and an example of a good value — all of them at once.
 */
import { z } from 'zod';
import { isRedisUrl } from './redis-connection.ts';

const DEFAULT_GLOBUS_SCOPE =
  'https://auth.globus.org/scopes/681c10cc-f684-4540-bcd7-0b4df3bc26ef/action_all';

/**
 * Thrown for missing or malformed settings: every problem found, one line each
 * (`message` joins them), so a newcomer fixes them all in one go rather than
 * one per restart.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Collects configuration problems; `check()` throws them all at once. */
class Problems {
  private readonly lines: string[] = [];
  private readonly named = new Set<string>();

  add(variable: string, problem: string): void {
    if (this.named.has(variable)) return; // the first problem with a variable is the one to fix
    this.named.add(variable);
    this.lines.push(`${variable}: ${problem} (example: ${variable}=${EXAMPLES[variable] ?? '<value>'})`);
  }

  has(variable: string): boolean {
    return this.named.has(variable);
  }

  check(): void {
    if (this.lines.length) throw new ConfigError(this.lines);
  }
}

type Env = Record<string, string | undefined>;

const EXAMPLES: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdef',
  SLACK_APP_TOKEN: 'xapp-1-A0123-4567-abcdef',
  SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543',
  SLACK_API_URL: 'https://slack.com/api/',
  PORT: '3000',
  REDIS_URL: 'redis://127.0.0.1:6379',
  INFERENCE_GATEWAY_URL: 'https://inference-api.alcf.anl.gov/resource_server',
  INFERENCE_CLUSTER: 'metis',
  METIS_DEFAULT_MODEL: 'Meta-Llama-3.3-70B-Instruct',
  GLOBUS_AUTH_URL: 'https://auth.globus.org',
  GLOBUS_CLIENT_ID: '0c0ffee0-1234-4abc-8def-0123456789ab',
  GLOBUS_CLIENT_SECRET: '<the secret Globus showed once>',
  GLOBUS_SCOPE: DEFAULT_GLOBUS_SCOPE,
  METIS_ACCESS_TOKEN: '<output of inference_auth_token.py get_access_token>',
  TOKEN_ENCRYPTION_KEY: '<output of: openssl rand -base64 32>',
  LOG_LEVEL: 'info',
  WORKER_CONCURRENCY: '500',
  WORKER_LOCK_SECONDS: '30',
  QUEUE_PREFIX: 'metis',
  METIS_CONTEXT_MAX_CHARS: '24000',
  METIS_MAX_PROMPT_CHARS: '16000',
  METIS_SLACK_EDIT_INTERVAL_MS: '1000',
  METIS_SLACK_EDITS_PER_MINUTE: '60',
  METIS_SLACK_MESSAGE_MAX_CHARS: '10000',
  METIS_STREAM_IDLE_TIMEOUT_SECONDS: '150',
  METIS_REQUEST_TIMEOUT_SECONDS: '900',
  METIS_GATEWAY_ATTEMPTS: '3',
  METIS_GATEWAY_RETRY_BASE_MS: '2000',
  SHUTDOWN_GRACE_SECONDS: '30',
  GLOBUS_CLIENT_AUTH: 'post',
  METIS_ADMIN_USERS: 'U012ABCDEF,U034GHIJKL',
  METIS_ALERT_CHANNEL: 'C0123ALERTS',
  METIS_ACCESS_WAIT_SECONDS: '900',
  METIS_ACCESS_PROBE_SECONDS: '30',
  METIS_COLD_START_TIMEOUT: '30m',
  SLACK_ALLOWED_TEAMS: 'T0123TEAM',
  SLACK_ALLOWED_CHANNELS: 'C0123LAB,C0456ML',
  SLACK_ALLOWED_USERS: 'U012ABCDEF',
  SLACK_ALLOWED_USERGROUPS: 'S0123GROUP',
  METIS_GATEWAY_REQUESTS_PER_SECOND: '8',
  METIS_GATEWAY_TOKENS_PER_MINUTE: '60000',
  METIS_USER_CONCURRENCY: '3',
  METIS_USER_REQUESTS_PER_HOUR: '60',
  METIS_USER_TOKENS_PER_DAY: '500000',
  METIS_CHANNEL_REQUESTS_PER_HOUR: '300',
  METIS_AUDIT_CONTENT: 'false',
  METIS_AUDIT_RETENTION_DAYS: '30',
  METIS_TOKEN_LIMIT_BACKOFF_SECONDS: '60',
  METIS_STATS_INTERVAL_SECONDS: '60',
  METIS_COLD_START_POLL_SECONDS: '15',
  METIS_MODEL_STATUS_TTL_SECONDS: '60',
  METIS_LOGIN_MAX_AGE_DAYS: '30',
  METIS_LOGIN_WARN_DAYS: '3',
};

const url = (v: string) => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'redis:' || u.protocol === 'rediss:';
  } catch {
    return false;
  }
};

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const urlWithDefault = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v === '' ? fallback : v;
      if (!url(value)) {
        ctx.addIssue({ code: 'custom', message: `must be a URL, got "${value}"` });
        return z.NEVER;
      }
      return value;
    });

/** A comma-separated list of Slack IDs; empty means "everyone". */
const slackIds = (pattern: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const ids = (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      const bad = ids.find((id) => !pattern.test(id));
      if (bad) {
        ctx.addIssue({ code: 'custom', message: `must be Slack ${what}, got "${bad}"` });
        return z.NEVER;
      }
      return ids;
    });

const schema = z.object({
  SLACK_BOT_TOKEN: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_API_URL: urlWithDefault('https://slack.com/api/'),
  PORT: intIn(0, 65535, 3000),
  REDIS_URL: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v ? v : 'redis://127.0.0.1:6379';
      if (!isRedisUrl(value)) {
        ctx.addIssue({ code: 'custom', message: `must be a URL: redis://host:port, rediss://… (TLS) or redis+sentinel://host1:26379,host2:26379/master-name, got "${value}"` });
        return z.NEVER;
      }
      return value;
    }),
  INFERENCE_GATEWAY_URL: urlWithDefault('https://inference-api.alcf.anl.gov/resource_server'),
  INFERENCE_CLUSTER: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : 'metis')),
  METIS_DEFAULT_MODEL: optionalString,
  GLOBUS_AUTH_URL: urlWithDefault('https://auth.globus.org'),
  GLOBUS_CLIENT_ID: optionalString,
  GLOBUS_CLIENT_SECRET: optionalString,
  GLOBUS_SCOPE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : DEFAULT_GLOBUS_SCOPE)),
  METIS_ACCESS_TOKEN: optionalString,
  TOKEN_ENCRYPTION_KEY: optionalString,
  LOG_LEVEL: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const level = v ? v.toLowerCase() : 'info';
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
        ctx.addIssue({ code: 'custom', message: `must be one of fatal, error, warn, info, debug, trace, silent, got "${v}"` });
        return z.NEVER;
      }
      return level as 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    }),
  // Answers wait on the gateway (I/O, not CPU): enough for the default gateway budget (8 starts a second)
  // times a one-minute answer, so the budget, not the worker, is the limit. Sizing: see the README.
  WORKER_CONCURRENCY: intIn(1, 5000, 500),
  WORKER_LOCK_SECONDS: intIn(2, 600, 30),
  QUEUE_PREFIX: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v ? v : 'metis';
      if (!/^[A-Za-z0-9_-]+$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `may hold only letters, digits, "-" and "_", got "${v}"` });
        return z.NEVER;
      }
      return value;
    }),
  METIS_CONTEXT_MAX_CHARS: intIn(1000, 1_000_000, 24_000),
  METIS_MAX_PROMPT_CHARS: intIn(100, 1_000_000, 16_000),
  METIS_SLACK_EDIT_INTERVAL_MS: intIn(0, 60_000, 1000),
  // chat.update is Tier 3 (50+ a minute per workspace, bursts allowed): one answer at one edit a second.
  METIS_SLACK_EDITS_PER_MINUTE: intIn(0, 100_000, 60),
  METIS_SLACK_MESSAGE_MAX_CHARS: intIn(500, 12_000, 10_000),
  METIS_STREAM_IDLE_TIMEOUT_SECONDS: intIn(1, 3600, 150),
  METIS_REQUEST_TIMEOUT_SECONDS: intIn(5, 7200, 900),
  METIS_GATEWAY_ATTEMPTS: intIn(1, 10, 3),
  METIS_GATEWAY_RETRY_BASE_MS: intIn(10, 600_000, 2000),
  SHUTDOWN_GRACE_SECONDS: intIn(0, 3600, 30),
  GLOBUS_CLIENT_AUTH: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v ? v.toLowerCase() : 'post';
      if (value !== 'post' && value !== 'basic') {
        ctx.addIssue({ code: 'custom', message: `must be "post" (credentials in the form body) or "basic" (HTTP Basic), got "${v}"` });
        return z.NEVER;
      }
      return value as 'post' | 'basic';
    }),
  METIS_ADMIN_USERS: slackIds(/^[UW][A-Z0-9]{2,}$/, 'user IDs (like U012ABCDEF, from a profile\'s "Copy member ID")'),
  METIS_ALERT_CHANNEL: optionalString,
  METIS_ACCESS_WAIT_SECONDS: intIn(0, 86_400, 900),
  METIS_ACCESS_PROBE_SECONDS: intIn(1, 3600, 30),
  METIS_COLD_START_TIMEOUT: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 30 * 60;
      const m = /^(\d+)\s*(s|m|h)?$/i.exec(v);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `must be a duration like 1800, 90s, 30m or 2h, got "${v}"` });
        return z.NEVER;
      }
      const unit = (m[2] ?? 's').toLowerCase();
      return Number(m[1]) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
    }),
  METIS_COLD_START_POLL_SECONDS: intIn(1, 600, 15),
  METIS_MODEL_STATUS_TTL_SECONDS: intIn(1, 60, 60),
  SLACK_ALLOWED_TEAMS: slackIds(/^[TE][A-Z0-9]{2,}$/, 'team IDs (like T0123TEAM)'),
  SLACK_ALLOWED_CHANNELS: slackIds(/^[CGD][A-Z0-9]{2,}$/, 'channel IDs (like C0123LAB, from "Copy link" or channel details)'),
  SLACK_ALLOWED_USERS: slackIds(/^[UW][A-Z0-9]{2,}$/, 'user IDs (like U012ABCDEF, from a profile\'s "Copy member ID")'),
  SLACK_ALLOWED_USERGROUPS: slackIds(/^S[A-Z0-9]{2,}$/, 'user group IDs (like S0123GROUP)'),
  METIS_GATEWAY_REQUESTS_PER_SECOND: intIn(0, 10_000, 8),
  METIS_GATEWAY_TOKENS_PER_MINUTE: intIn(0, 100_000_000, 0),
  METIS_USER_CONCURRENCY: intIn(0, 1000, 3),
  METIS_USER_REQUESTS_PER_HOUR: intIn(0, 1_000_000, 0),
  METIS_USER_TOKENS_PER_DAY: intIn(0, 1_000_000_000, 0),
  METIS_CHANNEL_REQUESTS_PER_HOUR: intIn(0, 1_000_000, 0),
  METIS_AUDIT_CONTENT: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = (v ?? '').toLowerCase();
      if (['', 'false', '0', 'no'].includes(value)) return false;
      if (['true', '1', 'yes'].includes(value)) return true;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
      return z.NEVER;
    }),
  METIS_AUDIT_RETENTION_DAYS: intIn(1, 3650, 30),
  METIS_TOKEN_LIMIT_BACKOFF_SECONDS: intIn(1, 3600, 60),
  METIS_STATS_INTERVAL_SECONDS: intIn(0, 86_400, 60),
  // ALCF's current policy: a person logs in again every 30 days. 0 = never warn.
  METIS_LOGIN_MAX_AGE_DAYS: intIn(0, 365, 30),
  METIS_LOGIN_WARN_DAYS: intIn(1, 60, 3),
});

/** How the bot holds Metis access; the token module owns the details. */
export type AccessMode =
  | { kind: 'static'; accessToken: string }
  | {
      kind: 'client-credentials';
      clientId: string;
      clientSecret: string;
      scope: string;
      authUrl: string;
      /** How the secret is sent to Globus: in the form body, or as (raw) HTTP Basic. */
      clientAuth: 'post' | 'basic';
    }
  /** A person's login (`metis-bot auth login` / `auth import`), refreshed with its refresh token. */
  | { kind: 'user-login'; clientId: string; scope: string; authUrl: string };

/** The Globus native-app client ALCF's inference_auth_token.py uses. */
export const NATIVE_APP_CLIENT_ID = '58fdd3bc-e1c3-4ce5-80ea-8d6b87cfb944';

/** What the token commands (`metis-bot auth …`) need: no Slack settings. */
export interface AccessConfig {
  redisUrl: string;
  keyPrefix: string;
  access: AccessMode;
  /** Keys for tokens at rest, newest first; each 32 bytes. */
  tokenEncryptionKeys: Buffer[];
  gateway: { url: string; cluster: string };
  /** How long a person's login lasts before ALCF asks for a new one; 0 = not tracked. */
  loginMaxAgeMs: number;
}

export interface Config {
  slack: {
    botToken: string;
    /** Set → Socket Mode; unset → HTTP mode on `port`. */
    appToken?: string;
    signingSecret?: string;
    apiUrl: string;
  };
  port: number;
  redisUrl: string;
  gateway: {
    url: string;
    cluster: string;
    defaultModel?: string;
    streamIdleTimeoutMs: number;
    requestTimeoutMs: number;
    /** Tries per request before a transient gateway failure is reported. */
    attempts: number;
    /** First retry delay; later ones double (capped at 30 s). */
    retryBaseMs: number;
  };
  access: AccessMode;
  /** Keys for tokens at rest, newest first; each 32 bytes. */
  tokenEncryptionKeys: Buffer[];
  admin: {
    /** Slack user IDs told (by DM) when Metis access needs a person, and when it recovers. */
    users: string[];
    /** A channel told the same. */
    alertChannel?: string;
    /** How long a question waits for access to be fixed before it is answered with an error. */
    accessWaitMs: number;
    /** While access is broken, how often one waiting question tries again. */
    accessProbeMs: number;
    /** A person's login lapses this long after it was made (ALCF policy); 0 = not tracked. */
    loginMaxAgeMs: number;
    /** The admins are told this long before it lapses. */
    loginWarnMs: number;
  };
  /** Who may use the bot; an empty list allows everyone. Guests and external users need to be listed. */
  allow: { teams: string[]; channels: string[]; users: string[]; usergroups: string[] };
  sharing: {
    /** Fleet-wide gateway request budget; 0 = off. */
    gatewayRequestsPerSecond: number;
    /** Fleet-wide tokens per minute per model; 0 = off. */
    gatewayTokensPerMinute: number;
    /** Questions one person may have running at once; 0 = no cap. */
    userConcurrency: number;
    userRequestsPerHour: number;
    userTokensPerDay: number;
    channelRequestsPerHour: number;
    auditContent: boolean;
    auditRetentionDays: number;
    /** After the gateway's token-per-minute 429, how long the fleet leaves that model alone (its window is a fixed minute). */
    tokenLimitBackoffMs: number;
  };
  models: {
    /** Model status older than this is fetched again (the gateway itself caches it 60 s). */
    statusTtlMs: number;
    /** How long a question waits for a model that is not Live (or for maintenance to end). */
    coldStartTimeoutMs: number;
    /** How often a waiting question checks the (shared) status again. */
    coldStartPollMs: number;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  queue: {
    prefix: string;
    workerConcurrency: number;
    /** A job's lock; a killed worker's answer is taken over by another after about this long. */
    workerLockMs: number;
  };
  conversation: { contextMaxChars: number; maxPromptChars: number };
  /** Streaming edits: at least `editIntervalMs` apart per message; `editsPerMinute` shared by the fleet (0: no fleet budget). */
  slackOutput: { editIntervalMs: number; editsPerMinute: number; messageMaxChars: number };
  shutdownGraceMs: number;
  /** How often each process logs its memory and event-loop lag; 0 = never. */
  statsIntervalMs: number;
}

/** Parses one key: 32 bytes given as base64 (44 chars) or hex (64 chars). */
function parseKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(raw)) {
    const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

/** What .env.example holds until someone fills it in ("xoxb-...", "<the secret …>"). */
const PLACEHOLDER = /^(?:[\w-]*\.\.\.|<[^>]*>)$/;

/** Parses every variable on its own, so that all their problems are reported together. */
function parseEnv(env: Env, problems: Problems) {
  const parsed: Record<string, unknown> = {};
  for (const [variable, field] of Object.entries(schema.shape)) {
    const raw = env[variable]?.trim();
    if (raw && PLACEHOLDER.test(raw)) {
      problems.add(variable, `is still the placeholder "${raw}" from .env.example: put the real value here, or remove the line`);
      continue;
    }
    const result = (field as z.ZodType).safeParse(env[variable]);
    if (result.success) parsed[variable] = result.data;
    else problems.add(variable, result.error.issues[0]?.message ?? 'is invalid');
  }
  // Variables with a problem are missing here; nothing built from them is used, as check() throws.
  return parsed as z.output<typeof schema>;
}

type ParsedEnv = ReturnType<typeof parseEnv>;

function accessFrom(e: ParsedEnv, problems: Problems): Pick<AccessConfig, 'access' | 'tokenEncryptionKeys'> {
  const fail = (variable: string, problem: string) => problems.add(variable, problem);
  const tokenEncryptionKeys: Buffer[] = [];
  if (e.TOKEN_ENCRYPTION_KEY) {
    for (const raw of e.TOKEN_ENCRYPTION_KEY.split(',').map((k) => k.trim()).filter(Boolean)) {
      const key = parseKey(raw);
      if (key) tokenEncryptionKeys.push(key);
      else fail('TOKEN_ENCRYPTION_KEY', 'each key must be 32 bytes, written as base64 (44 chars) or hex (64 chars)');
    }
  }
  const authUrl = (e.GLOBUS_AUTH_URL ?? '').replace(/\/+$/, '');
  let access: AccessMode;
  if (e.GLOBUS_CLIENT_SECRET) {
    if (!e.GLOBUS_CLIENT_ID) fail('GLOBUS_CLIENT_ID', 'is required when GLOBUS_CLIENT_SECRET is set');
    access = {
      kind: 'client-credentials',
      clientId: e.GLOBUS_CLIENT_ID ?? '',
      clientSecret: e.GLOBUS_CLIENT_SECRET,
      scope: e.GLOBUS_SCOPE,
      authUrl,
      clientAuth: e.GLOBUS_CLIENT_AUTH,
    };
    // Tokens are cached in Redis, and nothing secret is stored in plaintext.
    if (tokenEncryptionKeys.length === 0 && !problems.has('TOKEN_ENCRYPTION_KEY'))
      fail('TOKEN_ENCRYPTION_KEY', 'is required with GLOBUS_CLIENT_SECRET: tokens are kept encrypted in Redis');
  } else if (e.METIS_ACCESS_TOKEN) {
    access = { kind: 'static', accessToken: e.METIS_ACCESS_TOKEN };
  } else if (tokenEncryptionKeys.length > 0) {
    access = { kind: 'user-login', clientId: e.GLOBUS_CLIENT_ID ?? NATIVE_APP_CLIENT_ID, scope: e.GLOBUS_SCOPE, authUrl };
  } else {
    access = { kind: 'static', accessToken: '' };
    // A variable that was given but is wrong already says what to fix.
    if (!['GLOBUS_CLIENT_SECRET', 'METIS_ACCESS_TOKEN', 'TOKEN_ENCRYPTION_KEY'].some((v) => problems.has(v)))
      fail(
        'GLOBUS_CLIENT_ID',
        'no Metis access is configured: set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (a service account), or TOKEN_ENCRYPTION_KEY and run `metis-bot auth login`, or METIS_ACCESS_TOKEN for a trial',
      );
  }
  return { access, tokenEncryptionKeys };
}

/** Reads what the token commands need; throws ConfigError with every problem found. */
export function loadAccessConfig(env: Env = process.env): AccessConfig {
  const problems = new Problems();
  const e = parseEnv(env, problems);
  const access = accessFrom(e, problems);
  problems.check();
  return {
    redisUrl: e.REDIS_URL,
    keyPrefix: e.QUEUE_PREFIX,
    ...access,
    gateway: { url: e.INFERENCE_GATEWAY_URL.replace(/\/+$/, ''), cluster: e.INFERENCE_CLUSTER },
    loginMaxAgeMs: e.METIS_LOGIN_MAX_AGE_DAYS * 86_400_000,
  };
}

/** Reads and validates the whole configuration; throws ConfigError with every problem found. */
export function loadConfig(env: Env = process.env): Config {
  const problems = new Problems();
  const fail = (variable: string, problem: string) => problems.add(variable, problem);
  const e = parseEnv(env, problems);

  if (!e.SLACK_BOT_TOKEN) fail('SLACK_BOT_TOKEN', 'is required: the Bot User OAuth Token from your Slack app');
  else if (!e.SLACK_BOT_TOKEN.startsWith('xoxb-')) fail('SLACK_BOT_TOKEN', 'must start with "xoxb-" (the Bot User OAuth Token, not the app-level token)');
  if (e.SLACK_APP_TOKEN && !e.SLACK_APP_TOKEN.startsWith('xapp-'))
    fail('SLACK_APP_TOKEN', 'must start with "xapp-" (an app-level token with the connections:write scope)');
  if (!e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET && !problems.has('SLACK_APP_TOKEN'))
    fail('SLACK_SIGNING_SECRET', 'is required in HTTP mode (set SLACK_APP_TOKEN instead to use Socket Mode)');

  const { access, tokenEncryptionKeys } = accessFrom(e, problems);
  problems.check();

  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN as string,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
    },
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    gateway: {
      url: e.INFERENCE_GATEWAY_URL.replace(/\/+$/, ''),
      cluster: e.INFERENCE_CLUSTER,
      defaultModel: e.METIS_DEFAULT_MODEL,
      streamIdleTimeoutMs: e.METIS_STREAM_IDLE_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.METIS_REQUEST_TIMEOUT_SECONDS * 1000,
      attempts: e.METIS_GATEWAY_ATTEMPTS,
      retryBaseMs: e.METIS_GATEWAY_RETRY_BASE_MS,
    },
    access,
    tokenEncryptionKeys,
    admin: {
      users: e.METIS_ADMIN_USERS,
      alertChannel: e.METIS_ALERT_CHANNEL,
      accessWaitMs: e.METIS_ACCESS_WAIT_SECONDS * 1000,
      accessProbeMs: e.METIS_ACCESS_PROBE_SECONDS * 1000,
      loginMaxAgeMs: e.METIS_LOGIN_MAX_AGE_DAYS * 86_400_000,
      loginWarnMs: e.METIS_LOGIN_WARN_DAYS * 86_400_000,
    },
    allow: {
      teams: e.SLACK_ALLOWED_TEAMS,
      channels: e.SLACK_ALLOWED_CHANNELS,
      users: e.SLACK_ALLOWED_USERS,
      usergroups: e.SLACK_ALLOWED_USERGROUPS,
    },
    sharing: {
      gatewayRequestsPerSecond: e.METIS_GATEWAY_REQUESTS_PER_SECOND,
      gatewayTokensPerMinute: e.METIS_GATEWAY_TOKENS_PER_MINUTE,
      userConcurrency: e.METIS_USER_CONCURRENCY,
      userRequestsPerHour: e.METIS_USER_REQUESTS_PER_HOUR,
      userTokensPerDay: e.METIS_USER_TOKENS_PER_DAY,
      channelRequestsPerHour: e.METIS_CHANNEL_REQUESTS_PER_HOUR,
      auditContent: e.METIS_AUDIT_CONTENT,
      auditRetentionDays: e.METIS_AUDIT_RETENTION_DAYS,
      tokenLimitBackoffMs: e.METIS_TOKEN_LIMIT_BACKOFF_SECONDS * 1000,
    },
    models: {
      statusTtlMs: e.METIS_MODEL_STATUS_TTL_SECONDS * 1000,
      coldStartTimeoutMs: e.METIS_COLD_START_TIMEOUT * 1000,
      coldStartPollMs: e.METIS_COLD_START_POLL_SECONDS * 1000,
    },
    logLevel: e.LOG_LEVEL,
    queue: { prefix: e.QUEUE_PREFIX, workerConcurrency: e.WORKER_CONCURRENCY, workerLockMs: e.WORKER_LOCK_SECONDS * 1000 },
    conversation: { contextMaxChars: e.METIS_CONTEXT_MAX_CHARS, maxPromptChars: e.METIS_MAX_PROMPT_CHARS },
    slackOutput: {
      editIntervalMs: e.METIS_SLACK_EDIT_INTERVAL_MS,
      editsPerMinute: e.METIS_SLACK_EDITS_PER_MINUTE,
      messageMaxChars: e.METIS_SLACK_MESSAGE_MAX_CHARS,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    statsIntervalMs: e.METIS_STATS_INTERVAL_SECONDS * 1000,
  };
}
