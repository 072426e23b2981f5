/**
 * Self-test of the OpenID provider fixture, driven by the real openid-client
 * v6 exactly as the bot's token code uses it against Globus: no discovery,
 * explicit endpoints, `scope` without `resource`. If these fail, tests built
 * on the fixture prove nothing.
 */
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type OidcFixture, startOidcProvider } from './oidc.ts';

let fx: OidcFixture | undefined;

afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function start(opts?: Parameters<typeof startOidcProvider>[0]): Promise<OidcFixture> {
  fx = await startOidcProvider(opts);
  return fx;
}

function configFor(f: OidcFixture, clientId: string, auth: oidc.ClientAuth): oidc.Configuration {
  const config = new oidc.Configuration(
    {
      issuer: f.url,
      token_endpoint: `${f.url}/v2/oauth2/token`,
      revocation_endpoint: `${f.url}/v2/oauth2/token/revoke`,
    },
    clientId,
    undefined,
    auth,
  );
  oidc.allowInsecureRequests(config);
  return config;
}

/**
 * Resolves to the OAuth error code of a rejected grant; fails the test if it did not fail that way.
 * openid-client reports a 401 that carries a WWW-Authenticate header (oidc-provider adds one when the
 * client used HTTP Basic) as WWWAuthenticateChallengeError, with the code in the challenge parameters,
 * and every other OAuth error as ResponseBodyError.
 */
async function oauthError(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof oidc.WWWAuthenticateChallengeError) return err.cause[0]?.parameters.error;
  expect(err).toBeInstanceOf(oidc.ResponseBodyError);
  return (err as oidc.ResponseBodyError).error;
}

describe('client_credentials', () => {
  it('issues an opaque access token for the scope alone (no resource parameter)', async () => {
    const f = await start();
    const config = configFor(f, f.confidential.clientId, oidc.ClientSecretPost(f.confidential.clientSecret));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: f.scope });
    expect(tokens.access_token).toMatch(/^[\w-]{20,}$/); // opaque, not a JWT
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(tokens.scope).toBe(f.scope);
    expect(tokens.refresh_token).toBeUndefined();
    expect(f.grants).toEqual({ client_credentials: 1 });
  });

  it('honours accessTokenTtlSeconds', async () => {
    const f = await start({ accessTokenTtlSeconds: 5 });
    const config = configFor(f, f.confidential.clientId, oidc.ClientSecretPost(f.confidential.clientSecret));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: f.scope });
    expect(tokens.expires_in).toBe(5);
  });

  it('rejects a wrong secret with invalid_client (401)', async () => {
    const f = await start();
    const config = configFor(f, f.confidential.clientId, oidc.ClientSecretPost('not-the-secret'));
    const err = await oidc.clientCredentialsGrant(config, { scope: f.scope }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    expect((err as oidc.ResponseBodyError).error).toBe('invalid_client');
    expect((err as oidc.ResponseBodyError).status).toBe(401);
    expect(f.grants).toEqual({});
  });

  it('accepts client_secret_basic for the basic client', async () => {
    const f = await start();
    const config = configFor(f, f.basicClient.clientId, oidc.ClientSecretBasic(f.basicClient.clientSecret));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: f.scope });
    expect(tokens.expires_in).toBe(600);
    // A wrong Basic secret is a 401 with `WWW-Authenticate: Basic … error="invalid_client"`, which
    // openid-client surfaces as WWWAuthenticateChallengeError rather than ResponseBodyError.
    const wrong = configFor(f, f.basicClient.clientId, oidc.ClientSecretBasic('not-the-secret'));
    const err = await oidc.clientCredentialsGrant(wrong, { scope: f.scope }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect((err as oidc.WWWAuthenticateChallengeError).status).toBe(401);
    expect((err as oidc.WWWAuthenticateChallengeError).cause[0]?.parameters.error).toBe('invalid_client');
    // NB: oidc-provider treats client_secret_basic and client_secret_post as one family, so the
    // registered method is not enforced; a test cannot use this fixture to prove which one the bot sends.
    const post = configFor(f, f.basicClient.clientId, oidc.ClientSecretPost(f.basicClient.clientSecret));
    expect((await oidc.clientCredentialsGrant(post, { scope: f.scope })).access_token).toBeTruthy();
  });
});

describe('refresh_token', () => {
  it('refreshes a public client token with no client secret and no resource parameter', async () => {
    const f = await start();
    const first = await f.obtainRefreshToken(f.publicClient.clientId);
    expect(first.refresh_token).toBeTruthy();
    expect(first.expires_in).toBe(600);

    const config = configFor(f, f.publicClient.clientId, oidc.None());
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(first.access_token);
    expect(refreshed.expires_in).toBe(600);
    expect(refreshed.scope).toBe(f.scope);
    // Not rotating: oidc-provider echoes the same refresh token back (it does not omit it), and it keeps working.
    expect(refreshed.refresh_token).toBe(first.refresh_token);
    await oidc.refreshTokenGrant(config, first.refresh_token);

    expect(f.grants).toEqual({ authorization_code: 1, refresh_token: 2 });
  });

  it('refreshes for a confidential client (client_secret_post and client_secret_basic)', async () => {
    const f = await start();
    const post = await f.obtainRefreshToken(f.confidential.clientId);
    const postConfig = configFor(f, f.confidential.clientId, oidc.ClientSecretPost(f.confidential.clientSecret));
    expect((await oidc.refreshTokenGrant(postConfig, post.refresh_token)).access_token).toBeTruthy();

    const basic = await f.obtainRefreshToken(f.basicClient.clientId);
    const basicConfig = configFor(f, f.basicClient.clientId, oidc.ClientSecretBasic(f.basicClient.clientSecret));
    expect((await oidc.refreshTokenGrant(basicConfig, basic.refresh_token)).access_token).toBeTruthy();

    // A refresh token is bound to the client it was issued to.
    expect(await oauthError(oidc.refreshTokenGrant(basicConfig, post.refresh_token))).toBe('invalid_grant');
    expect(f.grants).toEqual({ authorization_code: 2, refresh_token: 2 });
  });

  it('rotates when asked to: a new refresh token, and the old one is then invalid_grant', async () => {
    const f = await start({ rotateRefreshToken: true });
    const first = await f.obtainRefreshToken(f.publicClient.clientId);
    const config = configFor(f, f.publicClient.clientId, oidc.None());

    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    const second = refreshed.refresh_token!;

    // The new one works (and rotates again)…
    const again = await oidc.refreshTokenGrant(config, second);
    expect(again.refresh_token).not.toBe(second);
    // …the consumed one does not.
    expect(await oauthError(oidc.refreshTokenGrant(config, first.refresh_token))).toBe('invalid_grant');
    expect(f.grants).toEqual({ authorization_code: 1, refresh_token: 2 });
  });

  it('reusing a rotated-out refresh token revokes the whole grant (replay detection)', async () => {
    const f = await start({ rotateRefreshToken: true });
    const first = await f.obtainRefreshToken(f.publicClient.clientId);
    const config = configFor(f, f.publicClient.clientId, oidc.None());
    const second = (await oidc.refreshTokenGrant(config, first.refresh_token)).refresh_token!;

    expect(await oauthError(oidc.refreshTokenGrant(config, first.refresh_token))).toBe('invalid_grant');
    expect(await oauthError(oidc.refreshTokenGrant(config, second))).toBe('invalid_grant');
  });

  it('rejects a bogus refresh token with invalid_grant (400)', async () => {
    const f = await start();
    const config = configFor(f, f.confidential.clientId, oidc.ClientSecretPost(f.confidential.clientSecret));
    const err = await oidc.refreshTokenGrant(config, 'no-such-token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    expect((err as oidc.ResponseBodyError).error).toBe('invalid_grant');
    expect((err as oidc.ResponseBodyError).status).toBe(400);
    expect(f.grants).toEqual({});
  });

  it('a revoked refresh token is invalid_grant', async () => {
    const f = await start();
    const config = configFor(f, f.publicClient.clientId, oidc.None());
    const { refresh_token } = await f.obtainRefreshToken(f.publicClient.clientId);
    await oidc.tokenRevocation(config, refresh_token);
    expect(await oauthError(oidc.refreshTokenGrant(config, refresh_token))).toBe('invalid_grant');
    // Revoking again (an unknown token) is still a success, per RFC 7009.
    await oidc.tokenRevocation(config, refresh_token);
    expect(f.grants).toEqual({ authorization_code: 1 });
  });
});

describe('fixture', () => {
  it('serves Globus-shaped endpoint paths', async () => {
    const f = await start();
    // The authorization endpoint answers on its Globus path (an error page for a request with no parameters).
    expect((await fetch(`${f.url}/v2/oauth2/authorize`)).status).toBe(400);
    // The provider's default paths are not served.
    const res = await fetch(`${f.url}/token`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('close() returns promptly even with keep-alive connections open', async () => {
    const f = await start();
    const config = configFor(f, f.confidential.clientId, oidc.ClientSecretPost(f.confidential.clientSecret));
    await oidc.clientCredentialsGrant(config, { scope: f.scope });
    const t0 = Date.now();
    await f.close();
    fx = undefined;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
