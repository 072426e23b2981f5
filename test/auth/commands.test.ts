/**
 * `metis-bot auth …` against the Globus-shaped fake, as an administrator
 * would use it: log in over "SSH" (URL out, code back, PKCE checked by the
 * fake), import ALCF's token files, see the status, log out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AccessTokenSource, createAccessTokenSource } from '../../src/auth/access-token.ts';
import { type CommandContext, CommandError, importFile, login, logout, status } from '../../src/auth/commands.ts';
import { TokenCrypto } from '../../src/auth/token-crypto.ts';
import { TokenStore } from '../../src/auth/token-store.ts';
import { type AccessConfig, loadAccessConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';
import {
  type FakeGlobus,
  GATEWAY_RESOURCE_SERVER,
  GLOBUS_CLIENT_ID,
  GLOBUS_CLIENT_SECRET,
  NATIVE_CLIENT_ID,
  startFakeGlobus,
} from '../fakes/globus.ts';

const logger = createLogger('silent');
let redis: Redis;
let globus: FakeGlobus;
let gateway: FakeGateway;
const dir = mkdtempSync(join(tmpdir(), 'metis-auth-'));

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await globus?.close();
  await gateway?.close();
});

async function context(env: Record<string, string> = {}, answer?: (printed: string[]) => string) {
  globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
  gateway = await startFakeGateway({ validTokens: [] });
  const key = randomBytes(32).toString('base64');
  const config: AccessConfig = loadAccessConfig({
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `cmd${randomBytes(3).toString('hex')}`,
    TOKEN_ENCRYPTION_KEY: key,
    GLOBUS_AUTH_URL: globus.url,
    INFERENCE_GATEWAY_URL: gateway.url,
    ...env,
  });
  const printed: string[] = [];
  const ctx: CommandContext = {
    config,
    redis,
    logger,
    io: {
      out: (line) => printed.push(line),
      ask: async () => answer?.(printed) ?? '',
    },
  };
  const store = new TokenStore(redis, config.keyPrefix, new TokenCrypto(config.tokenEncryptionKeys), logger);
  const source = (): AccessTokenSource =>
    createAccessTokenSource(config.access, { redis, keyPrefix: config.keyPrefix, keys: config.tokenEncryptionKeys, logger });
  return { ctx, printed, store, source };
}

const loginUrlIn = (printed: string[]) => printed.find((l) => l.startsWith('http')) as string;

describe('metis-bot auth login', () => {
  it('prints the Globus URL with PKCE and ALCF\'s session policy, takes the pasted code, and stores the tokens', async () => {
    const { ctx, printed, store, source } = await context({}, (out) => globus.approveLogin(loginUrlIn(out)));
    await login(ctx);
    const url = new URL(loginUrlIn(printed));
    expect(url.pathname).toBe('/v2/oauth2/authorize');
    expect(url.searchParams.get('client_id')).toBe(NATIVE_CLIENT_ID);
    expect(url.searchParams.get('session_required_policies')).toBe('83732ff2-9c42-4548-b5ce-17e498c84f6a');
    expect(url.searchParams.get('redirect_uri')).toBe('https://auth.globus.org/v2/web/auth-code');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('scope')).toContain(GATEWAY_RESOURCE_SERVER);
    const stored = await store.read();
    expect(stored).toMatchObject({ mode: 'user-login', origin: 'login', clientId: NATIVE_CLIENT_ID, accessToken: globus.issued[0] });
    expect(stored?.refreshToken).toMatch(/^Rf/);
    // The bot's token source now uses that login.
    expect(await source().get()).toBe(globus.issued[0]);
    expect(printed.join('\n')).not.toContain(globus.issued[0]);
  });

  it('refuses a code that does not match the login (PKCE checked by Globus)', async () => {
    const { ctx, store } = await context({}, () => 'a-code-from-someone-else');
    await expect(login(ctx)).rejects.toThrow(CommandError);
    expect(await store.read()).toBeUndefined();
  });

  it('says what to do when a service account is configured instead', async () => {
    const { ctx } = await context({ GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET });
    await expect(login(ctx)).rejects.toThrow(/service account/);
  });
});

describe('metis-bot auth import', () => {
  const write = (name: string, doc: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  it('reads the globus-sdk 2.0 tokens.json of inference_auth_token.py, taking the gateway\'s tokens', async () => {
    const { ctx, store, source } = await context();
    const { accessToken, refreshToken } = globus.mintLogin();
    const expires = Math.floor(Date.now() / 1000) + 40 * 3600;
    const file = write('tokens.json', {
      data: {
        DEFAULT: {
          'auth.globus.org': { resource_server: 'auth.globus.org', scope: 'openid', access_token: 'Ag-auth', refresh_token: 'Rf-auth', expires_at_seconds: expires, token_type: 'Bearer' },
          [GATEWAY_RESOURCE_SERVER]: { resource_server: GATEWAY_RESOURCE_SERVER, access_token: accessToken, refresh_token: refreshToken, expires_at_seconds: expires, token_type: 'Bearer' },
        },
      },
      format_version: '2.0',
      'globus-sdk.version': '3.65.0',
    });
    await importFile(ctx, file);
    expect(await store.read()).toMatchObject({ accessToken, refreshToken, origin: 'import', expiresAt: expires * 1000 });
    expect(await source().get()).toBe(accessToken); // still fresh: no grant needed
    expect(globus.grants).toHaveLength(0);
  });

  it('reads the flat file of inference_auth_token.sh and renews an expired token at once', async () => {
    const { ctx, source, store } = await context();
    const { accessToken, refreshToken } = globus.mintLogin();
    const file = write('tokens-bash.json', {
      app_name: 'inference_app',
      client_id: NATIVE_CLIENT_ID,
      resource_server: GATEWAY_RESOURCE_SERVER,
      scope: `https://auth.globus.org/scopes/${GATEWAY_RESOURCE_SERVER}/action_all`,
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_at: Math.floor(Date.now() / 1000) - 60,
    });
    await importFile(ctx, file);
    const renewed = await source().get();
    expect(renewed).not.toBe(accessToken);
    expect(globus.grants.map((g) => g.grantType)).toEqual(['refresh_token']);
    expect((await store.read())?.refreshToken).toBe(refreshToken);
  });

  it('reads the older 1.0 layout, and explains files it cannot use', async () => {
    const { ctx, store } = await context();
    const { accessToken, refreshToken } = globus.mintLogin();
    await importFile(ctx, write('v1.json', { by_rs: { [GATEWAY_RESOURCE_SERVER]: { access_token: accessToken, refresh_token: refreshToken, expires_at_seconds: 1 } }, format_version: '1.0' }));
    expect((await store.read())?.accessToken).toBe(accessToken);
    await expect(importFile(ctx, write('no-rt.json', { access_token: 'a', resource_server: GATEWAY_RESOURCE_SERVER }))).rejects.toThrow(/no refresh token/);
    await expect(importFile(ctx, write('other.json', { access_token: 'a', refresh_token: 'r', resource_server: 'transfer.api.globus.org' }))).rejects.toThrow(/not the inference gateway/);
    await expect(importFile(ctx, join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
  });
});

describe('renewal details against Globus-shaped answers', () => {
  it('keeps the refresh token when the answer carries none, and picks the gateway token from other_tokens', async () => {
    const { ctx, source, store } = await context({}, (out) => globus.approveLogin(loginUrlIn(out)));
    await login(ctx);
    const before = await store.read();
    globus.setOmitRefreshToken(true);
    globus.setGatewayInOtherTokens(true);
    await store.write({ ...(before as NonNullable<typeof before>), renewAt: 0 });
    const token = await source().get();
    expect(token).toBe(globus.issued.at(-1));
    expect((await store.read())?.refreshToken).toBe(before?.refreshToken);
  });

  it('sends a service account\'s secret raw in HTTP Basic when asked, and in the form body by default', async () => {
    const basic = await context({ GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, GLOBUS_CLIENT_AUTH: 'basic' });
    await basic.source().get();
    expect(globus.grants[0]?.auth).toBe('basic');
    await globus.close();
    await gateway.close();
    const post = await context({ GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET });
    await post.source().get();
    expect(globus.grants[0]?.auth).toBe('post');
  });
});

describe('metis-bot auth status and logout', () => {
  it('status shows mode, expiry and health without printing a token; logout revokes and deletes', async () => {
    const { ctx, printed, store } = await context({}, (out) => globus.approveLogin(loginUrlIn(out)));
    await login(ctx);
    const stored = await store.read();
    gateway.setValidTokens([stored?.accessToken as string]);
    printed.length = 0;
    await status(ctx);
    const text = printed.join('\n');
    expect(text).toContain('mode: user-login');
    expect(text).toMatch(/access token expires: \d{4}-/);
    expect(text).toContain('identity at the gateway:');
    expect(text).toContain('health: ok');
    expect(text).not.toContain(stored?.accessToken as string);
    expect(text).not.toContain(stored?.refreshToken as string);

    await logout(ctx);
    expect(globus.revoked.has(stored?.refreshToken as string)).toBe(true);
    expect(globus.revoked.has(stored?.accessToken as string)).toBe(true);
    expect(await store.read()).toBeUndefined();
  });

  it('status says "ok" only about what it checked: not before a token exists, nor when the gateway refuses it', async () => {
    const { ctx, printed } = await context({}, (out) => globus.approveLogin(loginUrlIn(out)));
    await status(ctx);
    expect(printed.join('\n')).toContain('health: not checked (no token to try yet)');
    expect(printed.join('\n')).not.toContain('health: ok');

    await login(ctx);
    gateway.setValidTokens([]); // the gateway refuses the stored token
    printed.length = 0;
    await status(ctx);
    expect(printed.join('\n')).toMatch(/identity at the gateway: not confirmed/);
    expect(printed.join('\n')).toContain('health: not confirmed');
    expect(printed.join('\n')).not.toContain('health: ok');
  });
});
