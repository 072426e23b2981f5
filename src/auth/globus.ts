/**
 * Globus Auth, as the bot uses it: the client-credentials grant (service
 * account), the native-app login with PKCE, refresh, and revocation — all
 * through openid-client, against Globus's fixed endpoints (no discovery).
 * Errors are translated here, once, into MetisError.
 */
import * as oidc from 'openid-client';
import { MetisError } from '../errors.ts';

/** The inference gateway's resource server (its Globus client id). */
export const GATEWAY_RESOURCE_SERVER = '681c10cc-f684-4540-bcd7-0b4df3bc26ef';
/** The session policy ALCF requires at login (as inference_auth_token.py asks for it). */
export const SESSION_POLICY = '83732ff2-9c42-4548-b5ce-17e498c84f6a';
/** Globus's page that shows the code to paste back: works over SSH, no local web server. */
export const AUTH_CODE_REDIRECT = 'https://auth.globus.org/v2/web/auth-code';

/** OAuth errors after which no retry helps: a person must fix the account or log in again. */
const PERMANENT_OAUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_scope', 'unsupported_grant_type']);

export interface TokenAnswer {
  accessToken: string;
  refreshToken?: string;
  expiresInSeconds: number;
}

export interface GlobusClient {
  authUrl: string;
  clientId: string;
  clientSecret?: string;
  /** How a confidential client sends its secret. Globus's handling of form-encoded Basic is uncertain, so Basic is sent raw. */
  clientAuth?: 'post' | 'basic';
}

/** HTTP Basic with the id and secret as they are (not form-encoded first, as RFC 6749 §2.3.1 would). */
function rawBasic(secret: string): oidc.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set('authorization', `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`);
  };
}

export function globusConfiguration(c: GlobusClient): oidc.Configuration {
  const root = c.authUrl.replace(/\/+$/, '');
  const auth = !c.clientSecret ? oidc.None() : c.clientAuth === 'basic' ? rawBasic(c.clientSecret) : oidc.ClientSecretPost(c.clientSecret);
  const config = new oidc.Configuration(
    {
      issuer: root,
      token_endpoint: `${root}/v2/oauth2/token`,
      authorization_endpoint: `${root}/v2/oauth2/authorize`,
      revocation_endpoint: `${root}/v2/oauth2/token/revoke`,
    },
    c.clientId,
    undefined,
    auth,
  );
  config.timeout = 20;
  if (root.startsWith('http://')) oidc.allowInsecureRequests(config);
  return config;
}

/**
 * Globus answers with the first resource server's token at the top level and
 * the rest in `other_tokens`; pick the gateway's.
 */
function gatewayToken(res: oidc.TokenEndpointResponse): TokenAnswer {
  const all = [res as unknown as Record<string, unknown>, ...((res as { other_tokens?: Record<string, unknown>[] }).other_tokens ?? [])];
  const match = all.find((t) => t.resource_server === GATEWAY_RESOURCE_SERVER) ?? all[0];
  const accessToken = match?.access_token;
  if (typeof accessToken !== 'string' || accessToken === '')
    throw new MetisError('token_grant_failed', 'Globus answered without an access token', {}, true);
  return {
    accessToken,
    refreshToken: typeof match?.refresh_token === 'string' ? match.refresh_token : undefined,
    expiresInSeconds: typeof match?.expires_in === 'number' ? match.expires_in : 172_800,
  };
}

/** Why a Globus call failed, without anything secret; `needsPerson` when no retry can fix it. */
export class GlobusError extends MetisError {
  constructor(
    readonly oauthError: string,
    readonly needsPerson: boolean,
    cause: unknown,
  ) {
    super('token_grant_failed', `Globus refused: ${oauthError}`, {}, !needsPerson, { cause });
    this.name = 'GlobusError';
  }
}

function translate(err: unknown): GlobusError {
  if (err instanceof oidc.ResponseBodyError) return new GlobusError(err.error, PERMANENT_OAUTH_ERRORS.has(err.error), err);
  // A 401 with WWW-Authenticate (as for a wrong secret sent with Basic) carries the OAuth error in the challenge.
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const code = err.cause[0]?.parameters.error ?? 'invalid_client';
    return new GlobusError(code, PERMANENT_OAUTH_ERRORS.has(code) || err.status === 401, err);
  }
  const code = (err as { code?: string }).code ?? (err as Error).name ?? 'network_error';
  return new GlobusError(`${code}: ${(err as Error).message ?? 'request failed'}`.slice(0, 200), false, err);
}

export async function clientCredentialsGrant(config: oidc.Configuration, scope: string): Promise<TokenAnswer> {
  try {
    return gatewayToken(await oidc.clientCredentialsGrant(config, { scope }));
  } catch (err) {
    throw err instanceof MetisError ? err : translate(err);
  }
}

export async function refreshGrant(config: oidc.Configuration, refreshToken: string): Promise<TokenAnswer> {
  try {
    return gatewayToken(await oidc.refreshTokenGrant(config, refreshToken));
  } catch (err) {
    throw err instanceof MetisError ? err : translate(err);
  }
}

/** The login page to open, with PKCE and ALCF's session policy; keep `verifier` for the exchange. */
export async function loginUrl(config: oidc.Configuration, scope: string): Promise<{ url: URL; verifier: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: AUTH_CODE_REDIRECT,
    scope,
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    access_type: 'offline',
    session_required_policies: SESSION_POLICY,
    prompt: 'login',
  });
  return { url, verifier };
}

/** Exchanges the code the person pasted (from Globus's auth-code page). */
export async function exchangeCode(config: oidc.Configuration, code: string, verifier: string): Promise<TokenAnswer> {
  const callback = new URL(AUTH_CODE_REDIRECT);
  callback.searchParams.set('code', code);
  try {
    return gatewayToken(await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, idTokenExpected: false }));
  } catch (err) {
    throw err instanceof MetisError ? err : translate(err);
  }
}

export async function revoke(config: oidc.Configuration, token: string): Promise<void> {
  try {
    await oidc.tokenRevocation(config, token);
  } catch (err) {
    throw translate(err);
  }
}
