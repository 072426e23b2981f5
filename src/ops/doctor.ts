/**
 * `metis-bot doctor`: checks each dependency the way the bot uses it and
 * says, for each one that fails, what to do. Read-only except that a
 * service account may obtain a token (as the bot would on its first question).
 */
import { SocketModeReceiver } from '@slack/bolt';
import { Redis } from 'ioredis';
import { createAccessTokenSource } from '../auth/access-token.ts';
import { TokenCrypto } from '../auth/token-crypto.ts';
import { TokenStore } from '../auth/token-store.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { GatewayClient } from '../gateway/client.ts';
import type { Logger } from '../logger.ts';
import { shippedManifestScopes } from './manifest.ts';

export interface CheckResult {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  /** What was found (never a token or secret). */
  detail: string;
  /** What to do about a warning or failure. */
  fix?: string;
}

const TIMEOUT_MS = 5_000;
/** BullMQ needs Redis 6.2 or later. */
const MIN_REDIS = [6, 2];

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });

function message(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).slice(0, 200);
}

function withTimeout<T>(p: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function checkRedis(config: Config): Promise<{ results: CheckResult[]; redis?: Redis }> {
  const host = new URL(config.redisUrl).host;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect(), 'connect');
  } catch (err) {
    redis.disconnect();
    return { results: [fail('redis', `cannot reach Redis at ${host}: ${message(err)}`, 'start Redis, or set REDIS_URL to where it runs (e.g. REDIS_URL=redis://redis:6379)')] };
  }
  const results: CheckResult[] = [];
  const info = await redis.info();
  const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const version = field('redis_version') ?? 'unknown';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const tooOld = major < (MIN_REDIS[0] as number) || (major === MIN_REDIS[0] && minor < (MIN_REDIS[1] as number));
  results.push(
    tooOld
      ? fail('redis', `Redis ${version} at ${host}`, `upgrade to Redis ${MIN_REDIS.join('.')} or later (BullMQ needs it)`)
      : ok('redis', `Redis ${version} at ${host}`),
  );
  const aof = field('aof_enabled') === '1';
  const save = await redis.config('GET', 'save').then((r) => String((r as string[])[1] ?? ''), () => '');
  results.push(
    aof || save
      ? ok('redis persistence', aof ? 'append-only file on' : `snapshots (save ${save})`)
      : fail('redis persistence', 'neither the append-only file nor snapshots are on: a restart loses every queued question', 'run Redis with --appendonly yes (as docker-compose.yml does)'),
  );
  const policy = await redis.config('GET', 'maxmemory-policy').then((r) => String((r as string[])[1] ?? 'unknown'), () => 'unknown (CONFIG is disabled)');
  results.push(
    policy === 'noeviction'
      ? ok('redis eviction', 'maxmemory-policy noeviction')
      : (policy.startsWith('unknown') ? warn : fail)(
          'redis eviction',
          `maxmemory-policy is ${policy}: Redis may drop queued questions when memory is full`,
          'set maxmemory-policy noeviction (redis.conf, or --maxmemory-policy noeviction), as BullMQ requires',
        ),
  );
  return { results, redis };
}

async function checkSlack(config: Config): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let res: Response;
  let body: { ok?: boolean; error?: string; team?: string; user?: string };
  try {
    res = await withTimeout(
      fetch(`${config.slack.apiUrl.replace(/\/$/, '')}/auth.test`, { method: 'POST', headers: { authorization: `Bearer ${config.slack.botToken}` } }),
      'auth.test',
    );
    body = (await res.json()) as typeof body;
  } catch (err) {
    return [fail('slack', `cannot reach Slack at ${config.slack.apiUrl}: ${message(err)}`, 'check outbound HTTPS to slack.com (proxy, firewall), or SLACK_API_URL')];
  }
  if (!body.ok) {
    return [fail('slack', `auth.test refused the bot token: ${body.error}`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from the app\'s "OAuth & Permissions" page; reinstall the app if it was revoked')];
  }
  results.push(ok('slack', `bot @${body.user} in workspace ${body.team}`));
  const wanted = shippedManifestScopes();
  const granted = (res.headers.get('x-oauth-scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted) results.push(warn('slack scopes', 'manifest.yml not found next to the program; scopes not compared', 'run doctor from the bot\'s folder'));
  else {
    const missing = wanted.filter((s) => !granted.includes(s));
    results.push(
      missing.length
        ? fail('slack scopes', `missing ${missing.join(', ')}`, 'add them in the app\'s "OAuth & Permissions" page (or update the app from manifest.yml), then reinstall the app to the workspace')
        : ok('slack scopes', `all ${wanted.length} scopes of manifest.yml granted`),
    );
  }
  if (!config.slack.appToken) {
    results.push(ok('slack socket mode', 'not used (HTTP mode: Slack posts to /slack/events)'));
    return results;
  }
  const receiver = new SocketModeReceiver({ appToken: config.slack.appToken, installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } } });
  // Connect once and close at once (an event Slack sends in that moment goes unacknowledged, so Slack sends it again).
  receiver.client.on('error', () => undefined);
  try {
    await withTimeout(receiver.client.start(), 'Socket Mode');
    results.push(ok('slack socket mode', 'connected (hello received)'));
  } catch (err) {
    const e = message(err);
    results.push(
      fail(
        'slack socket mode',
        `could not connect: ${e}`,
        /invalid_auth|not_authed|token/i.test(e)
          ? 'set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write ("Basic Information" → App-Level Tokens)'
          : 'turn on Socket Mode in the app settings and allow outbound websockets to wss-primary.slack.com',
      ),
    );
  } finally {
    await receiver.client.disconnect().catch(() => undefined);
  }
  return results;
}

async function checkMetis(config: Config, redis: Redis | undefined, logger: Logger): Promise<CheckResult[]> {
  const a = config.access;
  const results: CheckResult[] = [];
  const gateway = new GatewayClient({ baseUrl: config.gateway.url, cluster: config.gateway.cluster });
  let token: string;
  let expiry = 'no expiry known (a static token is used until the gateway refuses it)';
  try {
    if (a.kind === 'static') token = a.accessToken;
    else {
      if (!redis) return [fail('metis token', `mode ${a.kind}: the token is kept in Redis, which is not reachable`, 'fix Redis first')];
      const source = createAccessTokenSource(a, { redis, keyPrefix: config.queue.prefix, keys: config.tokenEncryptionKeys, logger });
      token = await withTimeout(source.get(), 'obtaining a token', 15_000);
      const stored = await new TokenStore(redis, config.queue.prefix, new TokenCrypto(config.tokenEncryptionKeys), logger).read();
      if (stored) expiry = `expires ${new Date(stored.expiresAt).toISOString()} (in ${Math.round((stored.expiresAt - Date.now()) / 60_000)} min)`;
    }
  } catch (err) {
    return [
      fail(
        'metis token',
        `mode ${a.kind}: no usable token: ${message(err)}`,
        a.kind === 'user-login'
          ? 'run `metis-bot auth login` (or `metis-bot auth import FILE`) with this REDIS_URL and TOKEN_ENCRYPTION_KEY'
          : 'check GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (a Globus service account with the inference gateway scope)',
      ),
    ];
  }
  results.push(ok('metis token', `mode ${a.kind}; ${expiry}`));
  try {
    const { models } = await withTimeout(gateway.listModels(token), 'list-endpoints');
    results.push(
      models.length
        ? ok('gateway models', `${models.length} models on ${config.gateway.cluster} (list-endpoints, an authorised call)`)
        : fail('gateway models', `no models listed for cluster ${config.gateway.cluster}`, 'check INFERENCE_CLUSTER (e.g. metis) against the gateway\'s list-endpoints'),
    );
  } catch (err) {
    const e = message(err);
    results.push(
      fail(
        'gateway models',
        `list-endpoints failed: ${e}`,
        /401|403|expired|inactive|unauthor|permission/i.test(e)
          ? 'the gateway refused the token: renew it (`metis-bot auth login`), or ask ALCF to grant this account access to Metis'
          : `check INFERENCE_GATEWAY_URL (${config.gateway.url}) and outbound HTTPS to it`,
      ),
    );
    return results;
  }
  try {
    const jobs = await withTimeout(gateway.modelStatuses(token), 'jobs');
    const live = [...jobs.values()].filter((j) => j.status === 'Live').length;
    results.push(ok('gateway jobs', `${live} of ${jobs.size} models Live`));
  } catch (err) {
    results.push(fail('gateway jobs', `/${config.gateway.cluster}/jobs failed: ${message(err)}`, 'the model status page is down or refused: retry later, or check INFERENCE_CLUSTER'));
  }
  return results;
}

/** Runs every check in order; later checks that need an earlier one say so instead of failing obscurely. */
export async function runDoctor(env: NodeJS.ProcessEnv, logger: Logger): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [fail('configuration', err.message, 'set the variable as shown; see README.md "Configuration"')];
    throw err;
  }
  const results: CheckResult[] = [
    ok('configuration', `${config.slack.appToken ? 'Socket Mode' : 'HTTP mode'}; Metis access ${config.access.kind}; gateway ${config.gateway.url}`),
  ];
  const redis = await checkRedis(config);
  results.push(...redis.results);
  try {
    results.push(...(await checkSlack(config)));
    results.push(...(await checkMetis(config, redis.redis, logger)));
  } finally {
    redis.redis?.disconnect();
  }
  return results;
}

/** The checklist as printed: one line per check, the fix under each failure. */
export function formatChecklist(results: CheckResult[]): string {
  const mark = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' };
  const lines = results.flatMap((r) => [`${mark[r.status]} ${r.name}: ${r.detail}`, ...(r.fix ? [`       fix: ${r.fix}`] : [])]);
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push('', failed ? `${failed} check${failed === 1 ? '' : 's'} failed.` : 'All checks passed.');
  return lines.join('\n');
}
