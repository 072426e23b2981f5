/**
 * Every setting the bot reads, declared once, shaped like the `Config` the
 * code reads: its variable, parser, default, example and the words README's
 * table shows. src/config.ts reads them; nothing else should.
 *
 * To add a setting: add one `setting({...})` where its value belongs in
 * SETTINGS, then run `npm run docs:config` to update README.md.
 */
import { isRedisUrl } from './redis-connection.ts';
import { Invalid, type Parse, bool, days, duration, httpUrl, int, millis, name, oneOf, seconds, setting, slackIds, text } from './settings.ts';

/** Parses one key: 32 bytes given as base64 (44 chars) or hex (64 chars). */
function parseKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(raw)) {
    const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

const encryptionKeys: Parse<Buffer[]> = (v) =>
  v
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((raw) => {
      const key = parseKey(raw);
      if (!key) throw new Invalid('each key must be 32 bytes, written as base64 (44 chars) or hex (64 chars)');
      return key;
    });

const redisUrl: Parse<string> = (v) => {
  if (!isRedisUrl(v)) throw new Invalid(`must be a URL like redis://host:port, rediss://…, redis+sentinel://host1:26379,host2:26379/master-name or redis+cluster://host1:6379,host2:6379, got "${v}"`);
  return v;
};

/** `Model=tokens,Model=tokens`: each model's context window, where the gateway does not give it. */
const modelTokens: Parse<ReadonlyMap<string, number>> = (v) => {
  const windows = new Map<string, number>();
  for (const pair of v.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(.+?)\s*=\s*(\d+)$/.exec(pair);
    const tokens = Number(m?.[2]);
    if (!m || tokens < 1024 || tokens > 10_000_000) throw new Invalid(`must be model=tokens pairs, tokens from 1024 to 10000000, got "${pair}"`);
    windows.set(m[1] as string, tokens);
  }
  return windows;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const USER_IDS = 'user IDs (like U012ABCDEF, from a profile\'s "Copy member ID")';

/** Every setting, once, where its value goes in `Config`. Declaration order is the order problems and README rows appear in. */
export const SETTINGS = {
  slack: {
    botToken: setting({ env: 'SLACK_BOT_TOKEN', parse: text, example: 'xoxb-1234-5678-abcdef', unset: 'required', doc: 'bot token (`xoxb-…`)' }),
    /** Set → Socket Mode; unset → HTTP mode on `port`. */
    appToken: setting({
      env: 'SLACK_APP_TOKEN',
      parse: text,
      example: 'xapp-1-A0123-4567-abcdef',
      unset: 'unset: HTTP mode',
      doc: 'app-level token (`xapp-…`, scope `connections:write`); when set, the bot uses Socket Mode',
    }),
    signingSecret: setting({ env: 'SLACK_SIGNING_SECRET', parse: text, example: '8f14e45fceea167a5a36dedd4bea2543', unset: 'required in HTTP mode', doc: 'signing secret, for HTTP mode' }),
    apiUrl: setting({ env: 'SLACK_API_URL', parse: httpUrl('with'), default: 'https://slack.com/api/', doc: 'Slack Web API base URL' }),
  },
  port: setting({ env: 'PORT', parse: int(0, 65535), default: '3000', doc: 'HTTP port: `POST /slack/events` in HTTP mode; `GET /healthz` always' }),
  redisUrl: setting({
    env: 'REDIS_URL',
    parse: redisUrl,
    default: 'redis://127.0.0.1:6379',
    doc: 'Redis for the queue, the token and caches: `redis://[:password@]host:port[/db]`, `rediss://…` (TLS), Redis Sentinel `redis+sentinel://[:password@]host1:26379,host2:26379/master-name`, or Redis Cluster `redis+cluster://[:password@]host1:6379,host2:6379`',
  }),
  gateway: {
    url: setting({ env: 'INFERENCE_GATEWAY_URL', parse: httpUrl('without'), default: 'https://inference-api.alcf.anl.gov/resource_server', doc: 'gateway root' }),
    cluster: setting({ env: 'INFERENCE_CLUSTER', parse: text, default: 'metis', doc: 'cluster' }),
    defaultModel: setting({
      env: 'METIS_DEFAULT_MODEL',
      parse: text,
      example: 'Meta-Llama-3.3-70B-Instruct',
      unset: 'first Live model',
      doc: 'model used when none is named (and the thread and channel have none); its exact name as the gateway lists it',
    }),
    streamIdleTimeoutMs: setting({ env: 'METIS_STREAM_IDLE_TIMEOUT_SECONDS', parse: seconds(1, 3600), default: '150', doc: 'give up when the gateway sends nothing for this long' }),
    requestTimeoutMs: setting({ env: 'METIS_REQUEST_TIMEOUT_SECONDS', parse: seconds(5, 7200), default: '900', doc: 'longest a single answer may take' }),
    /** Tries per request before a transient gateway failure is reported. */
    attempts: setting({
      env: 'METIS_GATEWAY_ATTEMPTS',
      parse: int(1, 10),
      default: '3',
      doc: 'tries per question when the gateway fails in a way worth retrying (never after text was shown)',
    }),
    /** First retry delay; later ones double (capped at 30 s). */
    retryBaseMs: setting({
      env: 'METIS_GATEWAY_RETRY_BASE_SECONDS',
      parse: seconds(0.01, 600),
      default: '2',
      doc: 'first retry delay; later ones double, up to 30 s',
      oldNames: [{ env: 'METIS_GATEWAY_RETRY_BASE_MS', parse: millis(10, 600_000) }],
    }),
  },
  /** Inputs to `access` (how the bot holds Metis access); not in `Config` as they are. */
  globus: {
    authUrl: setting({ env: 'GLOBUS_AUTH_URL', parse: httpUrl('without'), default: 'https://auth.globus.org', doc: 'Globus Auth root; the token endpoint is `{root}/v2/oauth2/token`' }),
    clientId: setting({
      env: 'GLOBUS_CLIENT_ID',
      parse: text,
      example: '0c0ffee0-1234-4abc-8def-0123456789ab',
      unset: "— (login: ALCF's `58fdd3bc-…`)",
      doc: 'service account client ID, with `GLOBUS_CLIENT_SECRET`; without a secret, the client `auth login` uses',
    }),
    clientSecret: setting({
      env: 'GLOBUS_CLIENT_SECRET',
      parse: text,
      example: '<the secret Globus showed once>',
      doc: 'service account secret: client-credentials grant (takes precedence over the other kinds of access)',
    }),
    clientAuth: setting({
      env: 'GLOBUS_CLIENT_AUTH',
      parse: oneOf(['post', 'basic'] as const, '"post" (credentials in the form body) or "basic" (HTTP Basic)'),
      default: 'post',
      doc: 'how the secret is sent to Globus: `post` (form body) or `basic` (HTTP Basic, raw)',
    }),
    scope: setting({ env: 'GLOBUS_SCOPE', parse: text, default: 'https://auth.globus.org/scopes/681c10cc-f684-4540-bcd7-0b4df3bc26ef/action_all', doc: 'scope to ask for' }),
    accessToken: setting({ env: 'METIS_ACCESS_TOKEN', parse: text, example: '<output of inference_auth_token.py get_access_token>', doc: 'a ready access token (quick trial; never refreshed)' }),
  },
  /** Keys for tokens at rest, newest first; each 32 bytes. */
  tokenEncryptionKeys: setting({
    env: 'TOKEN_ENCRYPTION_KEY',
    parse: encryptionKeys,
    default: '',
    example: '<output of: openssl rand -base64 32>',
    unset: 'required when a token is stored (service account or login)',
    doc: 'key for tokens at rest in Redis: 32 bytes as base64 or hex; several comma-separated, newest first, to rotate keys',
  }),
  admin: {
    /** Slack user IDs told (by DM) when Metis access needs a person, and when it recovers. */
    users: setting({
      env: 'METIS_ADMIN_USERS',
      parse: slackIds(/^[UW][A-Z0-9]{2,}$/, USER_IDS),
      default: '',
      example: 'U012ABCDEF,U034GHIJKL',
      doc: 'Slack user IDs (comma-separated) told by DM when Metis access needs a person, and when it recovers',
    }),
    /** A channel told the same. */
    alertChannel: setting({
      env: 'METIS_ALERT_CHANNEL',
      parse: text,
      example: 'C0123ALERTS',
      doc: 'a channel ID told the same; invite the bot there (`/invite @metis`), or Slack refuses its posts (`not_in_channel`)',
    }),
    /** How long a question waits for access to be fixed before it is answered with an error. */
    accessWaitMs: setting({ env: 'METIS_ACCESS_WAIT_SECONDS', parse: seconds(0, 86_400), default: '900', doc: 'how long a question waits for broken access to be fixed before it gets an error' }),
    /** While access is broken, how often one waiting question tries again. */
    accessProbeMs: setting({ env: 'METIS_ACCESS_PROBE_SECONDS', parse: seconds(1, 3600), default: '30', doc: 'while access is broken, how often one waiting question tries again' }),
    /** A person's login lapses this long after it was made (ALCF policy: 30 days); 0 = not tracked. */
    loginMaxAgeMs: setting({
      env: 'METIS_LOGIN_MAX_AGE_DAYS',
      parse: days(0, 365),
      default: '30',
      doc: "with a person's login: how long ALCF lets a login last before asking for a new one; `0` = not tracked",
    }),
    /** The admins are told this long before it lapses. */
    loginWarnMs: setting({ env: 'METIS_LOGIN_WARN_DAYS', parse: days(1, 60), default: '3', doc: 'how many days before that the admins are told' }),
  },
  /** Who may use the bot; an empty list allows everyone. Guests and external users need to be listed. */
  allow: {
    teams: setting({ env: 'SLACK_ALLOWED_TEAMS', parse: slackIds(/^[TE][A-Z0-9]{2,}$/, 'team IDs (like T0123TEAM)'), default: '', example: 'T0123TEAM', doc: 'teams (T…) whose people may use the bot; empty = all' }),
    channels: setting({
      env: 'SLACK_ALLOWED_CHANNELS',
      parse: slackIds(/^[CGD][A-Z0-9]{2,}$/, 'channel IDs (like C0123LAB, from "Copy link" or channel details)'),
      default: '',
      example: 'C0123LAB,C0456ML',
      doc: 'channels (C…, G…, D…) the bot answers in; empty = all',
    }),
    users: setting({
      env: 'SLACK_ALLOWED_USERS',
      parse: slackIds(/^[UW][A-Z0-9]{2,}$/, USER_IDS),
      default: '',
      example: 'U012ABCDEF',
      doc: 'people (U…) who may use the bot; empty = everyone (guests and external users must be listed)',
    }),
    usergroups: setting({ env: 'SLACK_ALLOWED_USERGROUPS', parse: slackIds(/^S[A-Z0-9]{2,}$/, 'user group IDs (like S0123GROUP)'), default: '', example: 'S0123GROUP', doc: 'user groups (S…) whose members may use the bot' }),
  },
  sharing: {
    /** Fleet-wide gateway request budget; 0 = off. */
    gatewayRequestsPerSecond: setting({ env: 'METIS_GATEWAY_REQUESTS_PER_SECOND', parse: int(0, 10_000), default: '8', doc: 'fleet-wide request budget for the gateway; `0` = off' }),
    /** Fleet-wide tokens per minute per model; 0 = off. */
    gatewayTokensPerMinute: setting({ env: 'METIS_GATEWAY_TOKENS_PER_MINUTE', parse: int(0, 100_000_000), default: '0', example: '60000', doc: 'fleet-wide tokens per minute per model; `0` = off' }),
    /** After the gateway's token-per-minute 429, how long the fleet leaves that model alone (its window is a fixed minute). */
    tokenLimitBackoffMs: setting({
      env: 'METIS_TOKEN_LIMIT_BACKOFF_SECONDS',
      parse: seconds(1, 3600),
      default: '60',
      doc: "after the gateway's token-limit 429, how long the fleet leaves that model alone",
    }),
    /** Questions one person may have running at once; 0 = no cap. */
    userConcurrency: setting({ env: 'METIS_USER_CONCURRENCY', parse: int(0, 1000), default: '3', doc: 'questions one person may have running at once; `0` = no cap' }),
    userRequestsPerHour: setting({ env: 'METIS_USER_REQUESTS_PER_HOUR', parse: int(0, 1_000_000), default: '0', example: '60', doc: 'questions one person may ask an hour; `0` = no limit' }),
    userTokensPerDay: setting({ env: 'METIS_USER_TOKENS_PER_DAY', parse: int(0, 1_000_000_000), default: '0', example: '500000', doc: 'tokens one person may use a day; `0` = no limit' }),
    channelRequestsPerHour: setting({ env: 'METIS_CHANNEL_REQUESTS_PER_HOUR', parse: int(0, 1_000_000), default: '0', example: '300', doc: 'questions one channel may ask an hour; `0` = no limit' }),
    auditContent: setting({ env: 'METIS_AUDIT_CONTENT', parse: bool, default: 'false', doc: 'keep the question text in the audit trail' }),
    auditRetentionDays: setting({ env: 'METIS_AUDIT_RETENTION_DAYS', parse: int(1, 3650), default: '30', doc: 'how long audit entries are kept, in days' }),
  },
  models: {
    /** Model status older than this is fetched again (the gateway itself caches it 60 s). */
    statusTtlMs: setting({ env: 'METIS_MODEL_STATUS_TTL_SECONDS', parse: seconds(1, 60), default: '60', doc: 'model status is fetched again when older than this (1–60)' }),
    /** How long a question waits for a model that is not Live (or for maintenance to end). */
    coldStartTimeoutMs: setting({
      env: 'METIS_COLD_START_TIMEOUT_SECONDS',
      parse: seconds(0, 86_400),
      default: '1800',
      doc: 'how long a question waits for its model to be Live, or for maintenance to end',
      oldNames: [{ env: 'METIS_COLD_START_TIMEOUT', parse: duration }],
    }),
    /** How often a waiting question checks the (shared) status again. */
    coldStartPollMs: setting({ env: 'METIS_COLD_START_POLL_SECONDS', parse: seconds(1, 600), default: '15', doc: 'how often a waiting question checks the shared status' }),
    /** Context windows for models the gateway does not describe; a model in neither gets 8,192 tokens. */
    contextTokens: setting({
      env: 'METIS_MODEL_CONTEXT_TOKENS',
      parse: modelTokens,
      default: '',
      example: 'Meta-Llama-3.3-70B-Instruct=131072,DeepSeek-R1=65536',
      doc: "each model's context window in tokens (prompt and answer), `model=tokens` pairs, used when the gateway does not say; others get 8192. A smaller limit the gateway reports when refusing a prompt wins for a day",
    }),
  },
  logLevel: setting({ env: 'LOG_LEVEL', parse: oneOf(LOG_LEVELS), default: 'info', doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`' }),
  queue: {
    prefix: setting({ env: 'QUEUE_PREFIX', parse: name, default: 'metis', doc: 'prefix of every Redis key (run two bots on one Redis with two prefixes)' }),
    // Answers wait on the gateway (I/O, not CPU): enough for the default gateway budget (8 starts a second)
    // times a one-minute answer, so the budget, not the worker, is the limit. Sizing: see the README.
    workerConcurrency: setting({
      env: 'WORKER_CONCURRENCY',
      parse: int(1, 5000),
      default: '500',
      doc: 'answers one worker process holds at once (streaming, or waiting for the gateway budget); see *Sizing* under Operations',
    }),
    /** A job's lock; a killed worker's answer is taken over by another after about this long. */
    workerLockMs: setting({ env: 'WORKER_LOCK_SECONDS', parse: seconds(2, 600), default: '30', doc: "a job's lock; if its worker dies, another takes the answer over after about this long" }),
  },
  /** Streaming edits: at least `editIntervalMs` apart per message; `editsPerMinute` shared by the fleet (0: no fleet budget). */
  slackOutput: {
    editIntervalMs: setting({
      env: 'METIS_SLACK_EDIT_INTERVAL_SECONDS',
      parse: seconds(0, 60),
      default: '1',
      doc: 'least time between two edits of a streaming message',
      oldNames: [{ env: 'METIS_SLACK_EDIT_INTERVAL_MS', parse: millis(0, 60_000) }],
    }),
    // chat.update is Tier 3 (50+ a minute per workspace, bursts allowed): under 50, with room for the final edits.
    editsPerMinute: setting({
      env: 'METIS_SLACK_EDITS_PER_MINUTE',
      parse: int(0, 100_000),
      default: '45',
      doc: 'streaming edits the whole fleet makes a minute, shared by the answers streaming at that moment (`chat.update` is a Tier 3 method: Slack allows 50+ a minute per workspace, in bursts). One answer edits once a second; ten at once each edit every 10 s. Final edits are never held back. Raise it if your workspace takes more without 429s; `0` = no fleet budget',
    }),
    // Native streams (chat.startStream/appendStream/stopStream) show text as Slack's own AI apps do, but their
    // start and stop are Tier 2 (about 20 a minute per workspace): in auto, only answers the budget has room for stream.
    streaming: setting({
      env: 'SLACK_STREAMING',
      parse: oneOf(['auto', 'native', 'edit'] as const),
      default: 'auto',
      doc: "how answers appear: `native` streams each in Slack's own streaming message (`chat.startStream`), `edit` edits an ordinary message, `auto` streams natively while the workspace's budget for stream starts has room, edits while the edit budget has room, and past both posts each answer whole when it is done",
    }),
    // chat.startStream + chat.stopStream are Tier 2 (20+ a minute per workspace): a native answer reserves both.
    streamCallsPerMinute: setting({
      env: 'METIS_SLACK_STREAM_CALLS_PER_MINUTE',
      parse: int(0, 10_000),
      default: '18',
      doc: '`chat.startStream` + `chat.stopStream` calls the whole fleet makes a minute (Slack: Tier 2, about 20); each natively streamed answer takes two, so 18 lets 9 answers a minute stream natively. `0` = never stream natively in `auto`',
    }),
    // chat.appendStream is Tier 4 (100+ a minute per workspace), shared by the answers streaming natively.
    appendsPerMinute: setting({
      env: 'METIS_SLACK_APPENDS_PER_MINUTE',
      parse: int(1, 100_000),
      default: '90',
      doc: '`chat.appendStream` calls the whole fleet makes a minute (Slack: Tier 4, about 100), shared by the answers streaming natively at that moment',
    }),
    // assistant.threads.setStatus has a "special" tier with no published figure; an answer sets it about twice.
    statusPerMinute: setting({
      env: 'METIS_SLACK_STATUS_PER_MINUTE',
      parse: int(0, 100_000),
      default: '300',
      doc: "thread status lines (`assistant.threads.setStatus`: \"3 questions ahead\", \"thinking…\") the whole fleet sets a minute; past it an answer goes without (its placeholder says the same), and a status already shown is always cleared. An answer sets about two. `0` = none at all",
    }),
    // users.info is Tier 4 (100+ a minute per workspace), also used by the allow lists' checks of who is asking.
    nameLookupsPerMinute: setting({
      env: 'METIS_SLACK_NAME_LOOKUPS_PER_MINUTE',
      parse: int(0, 100_000),
      default: '60',
      doc: "display names (`users.info`) the whole fleet looks up a minute, so the model reads \"Ada\" rather than `<@U123>`; past it a name not yet known stays the id (names are kept an hour, fleet-wide). `users.info` is a Tier 4 method (100+ a minute per workspace); the rest is left for the allow lists' checks. `0` = never look names up",
    }),
    messageMaxChars: setting({
      env: 'METIS_SLACK_MESSAGE_MAX_CHARS',
      parse: int(500, 12_000),
      default: '10000',
      doc: "longest Slack message before the answer continues in the next (Slack's markdown limit is 12,000)",
    }),
  },
  shutdownGraceMs: setting({ env: 'SHUTDOWN_GRACE_SECONDS', parse: seconds(0, 3600), default: '30', doc: 'on SIGTERM, how long answers in flight may take to finish' }),
  /** How often each process logs its memory and event-loop lag; 0 = never. */
  statsIntervalMs: setting({
    env: 'METIS_STATS_INTERVAL_SECONDS',
    parse: seconds(0, 86_400),
    default: '60',
    doc: 'how often each process logs `"msg":"process stats"` (RSS, heap, event-loop lag p99, longest garbage-collection pause, and in a listener the ack times); `0` = never',
  }),
};
