/**
 * The token lifecycle against a real OpenID provider (oidc-provider, laid out
 * with Globus's token path): client credentials (form body and Basic), the
 * refresh-token grant with and without rotation, revoked and bogus refresh
 * tokens, a wrong client secret — through the bot's own token source.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessHealth, type AccessProblem } from '../../src/auth/access-health.ts';
import { type AccessTokenSource, createAccessTokenSource } from '../../src/auth/access-token.ts';
import { GlobusError, globusConfiguration, revoke } from '../../src/auth/globus.ts';
import { TokenCrypto } from '../../src/auth/token-crypto.ts';
import { TokenStore } from '../../src/auth/token-store.ts';
import type { AccessMode } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { type OidcFixture, startOidcProvider } from '../fakes/oidc.ts';

const logger = createLogger('silent');
let redis: Redis;
let fx: OidcFixture;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await fx?.close();
});

interface Setup {
  source: AccessTokenSource;
  store: TokenStore;
  alerts: AccessProblem[];
}

function setup(access: AccessMode): Setup {
  const prefix = `oidc${randomBytes(3).toString('hex')}`;
  const key = randomBytes(32);
  const alerts: AccessProblem[] = [];
  const health = new AccessHealth(redis, prefix, { needsPerson: async (p) => void alerts.push(p), recovered: async () => {} }, logger);
  return {
    source: createAccessTokenSource(access, { redis, keyPrefix: prefix, keys: [key], logger, health }),
    store: new TokenStore(redis, prefix, new TokenCrypto([key]), logger),
    alerts,
  };
}

const cc = (clientId: string, clientSecret: string, clientAuth: 'post' | 'basic'): AccessMode => ({
  kind: 'client-credentials',
  clientId,
  clientSecret,
  clientAuth,
  scope: fx.scope,
  authUrl: fx.url,
});

/** Stores a login for the public client as `metis-bot auth login` would, already due for renewal. */
async function storeLogin(s: Setup): Promise<{ access_token: string; refresh_token: string }> {
  const login = await fx.obtainRefreshToken(fx.publicClient.clientId);
  const now = Date.now();
  await s.store.write({
    mode: 'user-login',
    clientId: fx.publicClient.clientId,
    accessToken: login.access_token,
    refreshToken: login.refresh_token,
    expiresAt: now + 600_000,
    renewAt: 0,
    obtainedAt: now,
    origin: 'login',
  });
  return login;
}

describe('against a real OpenID provider', () => {
  it('client credentials with the secret in the form body, scope only', async () => {
    fx = await startOidcProvider();
    const s = setup(cc(fx.confidential.clientId, fx.confidential.clientSecret, 'post'));
    const token = await s.source.get();
    expect(token.length).toBeGreaterThan(10);
    expect(fx.grants.client_credentials).toBe(1);
    expect(await s.source.get()).toBe(token); // cached, no second grant
    expect(fx.grants.client_credentials).toBe(1);
  });

  it('client credentials with HTTP Basic', async () => {
    fx = await startOidcProvider();
    const s = setup(cc(fx.basicClient.clientId, fx.basicClient.clientSecret, 'basic'));
    expect(await s.source.get()).toBeTruthy();
    expect(fx.grants.client_credentials).toBe(1);
  });

  it('a wrong client secret is permanent and alerts that a person must act', async () => {
    fx = await startOidcProvider();
    for (const method of ['post', 'basic'] as const) {
      const s = setup(cc(fx.confidential.clientId, 'not-the-secret', method));
      const err = await s.source.get().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GlobusError);
      expect((err as GlobusError).oauthError).toBe('invalid_client');
      expect((err as GlobusError).needsPerson).toBe(true);
      expect(s.alerts.map((a) => a.code)).toEqual(['grant_refused']);
    }
  });

  it('refreshes a stored login and keeps the refresh token when it is not rotated', async () => {
    fx = await startOidcProvider({ rotateRefreshToken: false });
    const s = setup({ kind: 'user-login', clientId: fx.publicClient.clientId, scope: fx.scope, authUrl: fx.url });
    const login = await storeLogin(s);
    const token = await s.source.get();
    expect(token).not.toBe(login.access_token);
    expect(fx.grants.refresh_token).toBe(1);
    const stored = await s.store.read();
    expect(stored?.refreshToken).toBe(login.refresh_token);
    expect(stored?.lastRefreshAt).toBeGreaterThan(0);
  });

  it('stores a rotated refresh token with its access token, so the old one is never reused', async () => {
    fx = await startOidcProvider({ rotateRefreshToken: true });
    const s = setup({ kind: 'user-login', clientId: fx.publicClient.clientId, scope: fx.scope, authUrl: fx.url });
    const login = await storeLogin(s);
    const first = await s.source.get();
    const afterFirst = await s.store.read();
    expect(afterFirst?.refreshToken).not.toBe(login.refresh_token);
    expect(afterFirst?.accessToken).toBe(first);
    // The gateway later says the token expired: the next renewal uses the rotated refresh token and works.
    await s.source.invalidate(first);
    const second = await s.source.get();
    expect(second).not.toBe(first);
    expect(fx.grants.refresh_token).toBe(2);
    expect(s.alerts).toEqual([]);
  });

  it('a bogus or revoked refresh token is permanent and alerts that the login expired', async () => {
    fx = await startOidcProvider();
    const s = setup({ kind: 'user-login', clientId: fx.publicClient.clientId, scope: fx.scope, authUrl: fx.url });
    const now = Date.now();
    await s.store.write({
      mode: 'user-login',
      clientId: fx.publicClient.clientId,
      accessToken: 'old',
      refreshToken: 'bogus-refresh-token',
      expiresAt: now,
      renewAt: 0,
      obtainedAt: now,
      origin: 'import',
    });
    const err = await s.source.get().catch((e: unknown) => e);
    expect((err as GlobusError).oauthError).toBe('invalid_grant');
    expect(s.alerts.map((a) => a.code)).toEqual(['login_expired']);
    expect(s.alerts[0]?.fix).toContain('metis-bot auth login');

    const revoked = setup({ kind: 'user-login', clientId: fx.publicClient.clientId, scope: fx.scope, authUrl: fx.url });
    const login = await storeLogin(revoked);
    await revoke(globusConfiguration({ authUrl: fx.url, clientId: fx.publicClient.clientId }), login.refresh_token);
    const again = await revoked.source.get().catch((e: unknown) => e);
    expect((again as GlobusError).oauthError).toBe('invalid_grant');
    expect(revoked.alerts.map((a) => a.code)).toEqual(['login_expired']);
  });
});
