/**
 * The one place that reads process.env. Every setting is declared once, in
 * SETTINGS (src/config-settings.ts), shaped like the `Config` the code reads; the parsing, the
 * examples in error messages and README's table all come from there. Bad
 * values stop the process with one line each, naming the variable, what was
 * wrong and an example of a good value — all of them at once.
 *
 * To add a setting: add one `setting({...})` where its value belongs in
 * SETTINGS (src/config-settings.ts), then run `npm run docs:config` to
 * update README.md.
 */
import { SETTINGS } from './config-settings.ts';
import { keyPrefixFor } from './redis-connection.ts';
import { type Values, readSettings, settingsOf } from './settings.ts';

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


/** The settings, for README's table and the test that keeps it and .env.example in step. */
export const CONFIG_SETTINGS = SETTINGS;

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

type Declared = Values<typeof SETTINGS>;

/** The whole configuration: the declared settings, with Metis access worked out from the `globus` ones. */
export type Config = Omit<Declared, 'globus' | 'slack'> & {
  slack: Omit<Declared['slack'], 'botToken'> & { botToken: string };
  access: AccessMode;
};

type Env = Record<string, string | undefined>;

/** `VARIABLE=example` for each variable, old names pointing at the new. */
const EXAMPLES = new Map(
  settingsOf(SETTINGS).flatMap((s) => [s.env, ...s.oldNames.map((o) => o.env)].map((env) => [env, `${s.env}=${s.example}`] as const)),
);

/** Collects configuration problems; `check()` throws them all at once. */
class Problems {
  private readonly lines: string[] = [];
  private readonly named = new Set<string>();

  add(variable: string, problem: string): void {
    if (this.named.has(variable)) return; // the first problem with a variable is the one to fix
    this.named.add(variable);
    this.lines.push(`${variable}: ${problem} (example: ${EXAMPLES.get(variable) ?? `${variable}=<value>`})`);
  }

  has(variable: string): boolean {
    return this.named.has(variable);
  }

  check(): void {
    if (this.lines.length) throw new ConfigError(this.lines);
  }
}

/** Reads every setting; a setting with a problem is missing from the result (and check() will throw). */
function read(env: Env, problems: Problems): Declared {
  const reading = readSettings(SETTINGS, env);
  for (const { env: variable, problem } of reading.problems) problems.add(variable, problem);
  return reading.values as Declared;
}

/** Old variable names in use, each with its new name, for a warning in the log at start. */
export function renamedVariables(env: Env = process.env): Array<{ variable: string; use: string }> {
  return readSettings(SETTINGS, env).renamed.map(({ old, env: use }) => ({ variable: old, use }));
}

function accessFrom(e: Declared, problems: Problems): AccessMode {
  const fail = (variable: string, problem: string) => problems.add(variable, problem);
  const g = e.globus;
  const keys = e.tokenEncryptionKeys ?? [];
  const authUrl = g.authUrl ?? '';
  const scope = g.scope ?? '';
  if (g.clientSecret) {
    if (!g.clientId) fail('GLOBUS_CLIENT_ID', 'is required when GLOBUS_CLIENT_SECRET is set');
    // Tokens are cached in Redis, and nothing secret is stored in plaintext.
    if (keys.length === 0 && !problems.has('TOKEN_ENCRYPTION_KEY'))
      fail('TOKEN_ENCRYPTION_KEY', 'is required with GLOBUS_CLIENT_SECRET: tokens are kept encrypted in Redis');
    return { kind: 'client-credentials', clientId: g.clientId ?? '', clientSecret: g.clientSecret, scope, authUrl, clientAuth: g.clientAuth ?? 'post' };
  }
  if (g.accessToken) return { kind: 'static', accessToken: g.accessToken };
  if (keys.length > 0) return { kind: 'user-login', clientId: g.clientId ?? NATIVE_APP_CLIENT_ID, scope, authUrl };
  // A variable that was given but is wrong already says what to fix.
  if (!['GLOBUS_CLIENT_SECRET', 'METIS_ACCESS_TOKEN', 'TOKEN_ENCRYPTION_KEY'].some((v) => problems.has(v)))
    fail(
      'GLOBUS_CLIENT_ID',
      'no Metis access is configured: set GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (a service account), or TOKEN_ENCRYPTION_KEY and run `metis-bot auth login`, or METIS_ACCESS_TOKEN for a trial',
    );
  return { kind: 'static', accessToken: '' };
}

/** Reads what the token commands need; throws ConfigError with every problem found. */
export function loadAccessConfig(env: Env = process.env): AccessConfig {
  const problems = new Problems();
  const e = read(env, problems);
  const access = accessFrom(e, problems);
  problems.check();
  return {
    redisUrl: e.redisUrl,
    keyPrefix: keyPrefixFor(e.redisUrl, e.queue.prefix),
    access,
    tokenEncryptionKeys: e.tokenEncryptionKeys,
    gateway: { url: e.gateway.url, cluster: e.gateway.cluster },
    loginMaxAgeMs: e.admin.loginMaxAgeMs,
  };
}

/** Reads and validates the whole configuration; throws ConfigError with every problem found. */
export function loadConfig(env: Env = process.env): Config {
  const problems = new Problems();
  const fail = (variable: string, problem: string) => problems.add(variable, problem);
  const e = read(env, problems);
  const { botToken, appToken, signingSecret } = e.slack;

  if (!botToken) fail('SLACK_BOT_TOKEN', 'is required: the Bot User OAuth Token from your Slack app');
  else if (!botToken.startsWith('xoxb-')) fail('SLACK_BOT_TOKEN', 'must start with "xoxb-" (the Bot User OAuth Token, not the app-level token)');
  if (appToken && !appToken.startsWith('xapp-')) fail('SLACK_APP_TOKEN', 'must start with "xapp-" (an app-level token with the connections:write scope)');
  if (!appToken && !signingSecret && !problems.has('SLACK_APP_TOKEN'))
    fail('SLACK_SIGNING_SECRET', 'is required in HTTP mode (set SLACK_APP_TOKEN instead to use Socket Mode)');

  const access = accessFrom(e, problems);
  problems.check();
  const { globus: _, slack, queue, ...rest } = e;
  return { ...rest, queue: { ...queue, prefix: keyPrefixFor(e.redisUrl, queue.prefix) }, slack: { ...slack, botToken: botToken as string }, access };
}
