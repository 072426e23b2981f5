/**
 * `metis-bot auth …`: the commands an administrator uses to give the bot
 * Metis access with a person's login, see its state, and take it away. They
 * need only REDIS_URL, TOKEN_ENCRYPTION_KEY and the GLOBUS_* settings.
 */
import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { AccessConfig } from '../config.ts';
import { GatewayClient } from '../gateway/client.ts';
import type { Logger } from '../logger.ts';
import { AccessHealth } from './access-health.ts';
import { exchangeCode, GlobusError, globusConfiguration, loginUrl, revoke } from './globus.ts';
import { TokenCrypto } from './token-crypto.ts';
import { parseTokenFile, TokenFileError } from './token-file.ts';
import { renewAtFor, TokenStore } from './token-store.ts';

export interface CommandIo {
  out: (line: string) => void;
  /** Reads one line the person types. */
  ask: (question: string) => Promise<string>;
}

export interface CommandContext {
  config: AccessConfig;
  redis: Redis;
  logger: Logger;
  io: CommandIo;
}

/** A command failure the person can act on; `message` is the one line to print. */
export class CommandError extends Error {}

function store(ctx: CommandContext): TokenStore {
  if (ctx.config.tokenEncryptionKeys.length === 0) throw new CommandError('TOKEN_ENCRYPTION_KEY is not set: the tokens are kept encrypted with it; use the same key as the bot');
  return new TokenStore(ctx.redis, ctx.config.keyPrefix, new TokenCrypto(ctx.config.tokenEncryptionKeys), ctx.logger);
}

function requireLoginMode(ctx: CommandContext): Extract<AccessConfig['access'], { kind: 'user-login' }> {
  const a = ctx.config.access;
  if (a.kind === 'static') throw new CommandError('METIS_ACCESS_TOKEN is set, so the bot uses that token; unset it to use a stored login');
  if (a.kind === 'client-credentials')
    throw new CommandError('GLOBUS_CLIENT_SECRET is set, so the bot uses its service account; a login is only for bots without one');
  return a;
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const hoursFromNow = (ms: number) => `${((ms - Date.now()) / 3_600_000).toFixed(1)} h`;

/** The native-app login with PKCE: print the URL, read back the code Globus shows, store the tokens. */
export async function login(ctx: CommandContext): Promise<void> {
  const access = requireLoginMode(ctx);
  const tokens = store(ctx);
  const globus = globusConfiguration({ authUrl: access.authUrl, clientId: access.clientId });
  const { url, verifier } = await loginUrl(globus, access.scope);
  ctx.io.out('Open this address in a browser, log in with an identity ALCF accepts (your ANL or ALCF account), and allow access:');
  ctx.io.out('');
  ctx.io.out(url.href);
  ctx.io.out('');
  const code = (await ctx.io.ask('Then paste the authorization code Globus shows here: ')).trim();
  if (!code) throw new CommandError('no code was given; run `metis-bot auth login` again');
  let answer: Awaited<ReturnType<typeof exchangeCode>>;
  try {
    answer = await exchangeCode(globus, code, verifier);
  } catch (err) {
    if (err instanceof GlobusError) throw new CommandError(`Globus did not accept the code (${err.oauthError}); codes work once and expire quickly, so run \`metis-bot auth login\` again`);
    throw err;
  }
  if (!answer.refreshToken) throw new CommandError('Globus gave no refresh token, so the bot could not renew access; run `metis-bot auth login` again');
  const now = Date.now();
  const expiresAt = now + answer.expiresInSeconds * 1000;
  await tokens.write({
    mode: 'user-login',
    clientId: access.clientId,
    accessToken: answer.accessToken,
    refreshToken: answer.refreshToken,
    expiresAt,
    renewAt: renewAtFor(now, expiresAt),
    obtainedAt: now,
    origin: 'login',
    lastRefreshAt: now,
    loggedInAt: now,
  });
  ctx.io.out(`Logged in. The tokens are stored in Redis, encrypted; the bot renews them itself (access token valid until ${when(expiresAt)}).`);
}

/** Stores the gateway tokens from a file written by ALCF's inference_auth_token.py or .sh. */
export async function importFile(ctx: CommandContext, file: string | undefined): Promise<void> {
  const access = requireLoginMode(ctx);
  if (!file) throw new CommandError('give the tokens file: metis-bot auth import ~/.globus/app/58fdd3bc-e1c3-4ce5-80ea-8d6b87cfb944/inference_app/tokens.json');
  const tokens = store(ctx);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let imported: ReturnType<typeof parseTokenFile>;
  try {
    imported = parseTokenFile(text);
  } catch (err) {
    if (err instanceof TokenFileError) throw new CommandError(`${file}: ${err.message}`);
    throw err;
  }
  const now = Date.now();
  const expiresAt = imported.expiresAt || now;
  await tokens.write({
    mode: 'user-login',
    clientId: imported.clientId ?? access.clientId,
    accessToken: imported.accessToken,
    refreshToken: imported.refreshToken,
    expiresAt,
    // An imported token may be old or expired: renew it at once unless it has a good while left.
    renewAt: expiresAt - now > 20 * 60_000 ? expiresAt - 10 * 60_000 : 0,
    obtainedAt: now,
    origin: 'import',
    loggedInAt: now,
  });
  ctx.io.out(`Imported the inference gateway's tokens from ${file} (${imported.format} format). The bot renews them itself from now on.`);
}

/** Which mode, who, until when, and whether access works. Never prints a token. */
export async function status(ctx: CommandContext): Promise<void> {
  const a = ctx.config.access;
  ctx.io.out(`mode: ${a.kind}${a.kind === 'static' ? ' (METIS_ACCESS_TOKEN, never renewed)' : ` (Globus client ${a.clientId})`}`);
  let token: string | undefined;
  if (a.kind === 'static') {
    token = a.accessToken;
  } else {
    const stored = await store(ctx).read();
    if (!stored) {
      ctx.io.out(a.kind === 'user-login' ? 'stored tokens: none; run `metis-bot auth login` or `metis-bot auth import FILE`' : 'stored token: none yet (the bot obtains one on its first question)');
    } else {
      token = stored.accessToken;
      ctx.io.out(`stored tokens: from ${stored.origin} at ${when(stored.obtainedAt)}${stored.refreshToken ? ', with a refresh token' : ''}`);
      ctx.io.out(`access token expires: ${when(stored.expiresAt)} (in ${hoursFromNow(stored.expiresAt)}); renewal due ${stored.renewAt ? when(stored.renewAt) : 'now'}`);
      ctx.io.out(`last refresh: ${stored.lastRefreshAt ? when(stored.lastRefreshAt) : 'never'}`);
      if (stored.mode === 'user-login' && stored.loggedInAt !== undefined && ctx.config.loginMaxAgeMs)
        ctx.io.out(`login made ${when(stored.loggedInAt)}; ALCF asks for a new one about ${when(stored.loggedInAt + ctx.config.loginMaxAgeMs)}`);
    }
  }
  // "ok" only when the gateway has just accepted the token; anything less says what is known.
  let confirmed: string | undefined;
  if (token) {
    try {
      const who = await new GatewayClient({ baseUrl: ctx.config.gateway.url, cluster: ctx.config.gateway.cluster }).whoami(token);
      ctx.io.out(`identity at the gateway: ${who.username ?? 'unknown'}${who.name ? ` (${who.name})` : ''}`);
    } catch (err) {
      confirmed = (err as Error).message.slice(0, 160);
      ctx.io.out(`identity at the gateway: not confirmed (${confirmed})`);
    }
  }
  const problem = await AccessHealth.read(ctx.redis, ctx.config.keyPrefix);
  if (problem) ctx.io.out(`health: needs a person since ${when(problem.since)}: ${problem.detail}. Fix: ${problem.fix}`);
  else if (!token) ctx.io.out('health: not checked (no token to try yet)');
  else if (confirmed !== undefined) ctx.io.out('health: not confirmed: the gateway did not accept the token just now (see above)');
  else ctx.io.out('health: ok (the gateway accepted the token just now)');
}

/** Revokes the stored tokens at Globus and deletes them from Redis. */
export async function logout(ctx: CommandContext): Promise<void> {
  const a = ctx.config.access;
  if (a.kind === 'static') throw new CommandError('nothing is stored: the bot uses METIS_ACCESS_TOKEN; unset it to take access away');
  const tokens = store(ctx);
  const stored = await tokens.read();
  if (!stored) {
    ctx.io.out('No tokens are stored; nothing to do.');
    return;
  }
  const globus = globusConfiguration({
    authUrl: a.authUrl,
    clientId: stored.clientId,
    ...(a.kind === 'client-credentials' ? { clientSecret: a.clientSecret, clientAuth: a.clientAuth } : {}),
  });
  const problems: string[] = [];
  for (const [kind, token] of [
    ['refresh token', stored.refreshToken],
    ['access token', stored.accessToken],
  ] as const) {
    if (!token) continue;
    await revoke(globus, token).catch((err: unknown) => problems.push(`${kind}: ${err instanceof GlobusError ? err.oauthError : String(err)}`));
  }
  await tokens.delete();
  ctx.io.out(problems.length ? `Deleted the stored tokens. Globus did not confirm revocation (${problems.join('; ')}).` : 'Revoked the tokens at Globus and deleted them from Redis.');
  ctx.io.out('(The gateway may accept a revoked access token for up to ~10 minutes.)');
}

