/**
 * A fake Globus Auth for tests, shaped like Globus's answers (resource_server,
 * other_tokens, the token endpoint at {root}/v2/oauth2/token):
 * - client_credentials for a confidential client, credentials in the form
 *   body or as HTTP Basic (raw or form-encoded);
 * - authorization_code with PKCE (S256) for the public native-app client,
 *   checking the verifier against the challenge of the login URL;
 * - refresh_token, optionally rotating, optionally omitting it in answers;
 * - revocation at {root}/v2/oauth2/token/revoke.
 * It counts every grant it gives.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const GATEWAY_RESOURCE_SERVER = '681c10cc-f684-4540-bcd7-0b4df3bc26ef';
/** The service account the tests use; the secret has characters that form-encoding changes. */
export const GLOBUS_CLIENT_ID = '0c0ffee0-1234-4abc-8def-0123456789ab';
export const GLOBUS_CLIENT_SECRET = 'sEcReT+/with=odd-chars';
export const NATIVE_CLIENT_ID = '58fdd3bc-e1c3-4ce5-80ea-8d6b87cfb944';
export const GATEWAY_SCOPE = `https://auth.globus.org/scopes/${GATEWAY_RESOURCE_SERVER}/action_all`;
const AUTH_CODE_REDIRECT = 'https://auth.globus.org/v2/web/auth-code';

export interface Grant {
  grantType: string;
  clientId: string;
  scope?: string;
  auth: 'post' | 'basic' | 'basic-form-encoded' | 'none';
  at: number;
}

export interface FakeGlobus {
  url: string;
  /** Access tokens issued, in order. */
  issued: string[];
  grants: Grant[];
  revoked: Set<string>;
  /** Seconds the next tokens live (Globus: 172800). */
  setExpiresIn(seconds: number): void;
  /** Delay before answering a grant, to widen races in tests. */
  setDelayMs(ms: number): void;
  /** Makes the next grants fail with an OAuth error (e.g. invalid_client). */
  failNext(error: string, status?: number, times?: number): void;
  /** Refresh answers carry a new refresh token, and the old one stops working. */
  setRotateRefreshTokens(on: boolean): void;
  /** Refresh answers carry no refresh token at all (the client must keep its own). */
  setOmitRefreshToken(on: boolean): void;
  /** Put the gateway's token in other_tokens behind an auth.globus.org token, as a login with `openid` does. */
  setGatewayInOtherTokens(on: boolean): void;
  /** A login that already happened: an access and refresh token pair for the native client. */
  mintLogin(): { accessToken: string; refreshToken: string };
  /** As the person at the browser would: approves the login whose URL carried `codeChallenge`; returns the code Globus shows. */
  approveLogin(authorizeUrl: string): string;
  /** Revokes a refresh token as if the person logged out elsewhere. */
  revokeRefreshToken(token: string): void;
  close(): Promise<void>;
}

export async function startFakeGlobus(opts: {
  clientId: string;
  clientSecret: string;
  nativeClientId?: string;
  onIssue?: (token: string) => void;
}): Promise<FakeGlobus> {
  const nativeClientId = opts.nativeClientId ?? NATIVE_CLIENT_ID;
  const issued: string[] = [];
  const grants: Grant[] = [];
  const revoked = new Set<string>();
  const refreshTokens = new Set<string>();
  const codes = new Map<string, { challenge: string; clientId: string; redirectUri: string }>();
  let expiresIn = 172_800;
  let delayMs = 0;
  let rotate = false;
  let omitRefresh = false;
  let inOtherTokens = false;
  const failures: { error: string; status: number }[] = [];

  const newAccessToken = () => {
    const token = `Ag${randomBytes(24).toString('hex')}`;
    issued.push(token);
    opts.onIssue?.(token);
    return token;
  };
  const newRefreshToken = () => {
    const token = `Rf${randomBytes(24).toString('hex')}`;
    refreshTokens.add(token);
    return token;
  };

  /** Globus's token answer; the gateway token first, or in other_tokens after an auth.globus.org token. */
  const answer = (accessToken: string, refreshToken: string | undefined, scope: string) => {
    const gateway = {
      access_token: accessToken,
      expires_in: expiresIn,
      resource_server: GATEWAY_RESOURCE_SERVER,
      token_type: 'Bearer',
      scope,
      state: '_default',
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
    if (!inOtherTokens) return { ...gateway, other_tokens: [] };
    return {
      access_token: `Ag-auth-${randomBytes(8).toString('hex')}`,
      expires_in: expiresIn,
      resource_server: 'auth.globus.org',
      token_type: 'Bearer',
      scope: 'openid',
      state: '_default',
      other_tokens: [gateway],
    };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      let clientId = form.get('client_id') ?? '';
      let secret = form.get('client_secret') ?? undefined;
      let auth: Grant['auth'] = secret ? 'post' : 'none';
      const header = req.headers.authorization;
      if (header?.startsWith('Basic ')) {
        const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
        const at = decoded.indexOf(':');
        const rawId = decoded.slice(0, at);
        const rawSecret = decoded.slice(at + 1);
        // Accept both raw and RFC 6749 form-encoded Basic credentials, and say which arrived.
        auth = rawId.includes('%') || rawSecret.includes('%') ? 'basic-form-encoded' : 'basic';
        clientId = decodeURIComponent(rawId);
        secret = decodeURIComponent(rawSecret);
      }
      const authenticated = (clientId === opts.clientId && secret === opts.clientSecret) || (clientId === nativeClientId && secret === undefined);

      if (req.method === 'POST' && req.url === '/v2/oauth2/token/revoke') {
        if (!authenticated) return send(401, { error: 'invalid_client' });
        const token = form.get('token') ?? '';
        revoked.add(token);
        refreshTokens.delete(token);
        return send(200, { active: false });
      }
      if (req.method !== 'POST' || req.url !== '/v2/oauth2/token') return send(404, { error: 'not_found' });
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const failure = failures.shift();
      if (failure) return send(failure.status, { error: failure.error, error_description: `injected ${failure.error}` });
      if (!authenticated) return send(401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
      const grantType = form.get('grant_type') ?? '';
      const scope = form.get('scope') ?? GATEWAY_SCOPE;

      if (grantType === 'client_credentials') {
        if (clientId !== opts.clientId) return send(400, { error: 'unauthorized_client' });
        grants.push({ grantType, clientId, scope: form.get('scope') ?? undefined, auth, at: Date.now() });
        return send(200, answer(newAccessToken(), undefined, scope));
      }
      if (grantType === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '');
        if (!code || code.clientId !== clientId || code.redirectUri !== form.get('redirect_uri'))
          return send(400, { error: 'invalid_grant', error_description: 'unknown code or redirect_uri mismatch' });
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== code.challenge) return send(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        codes.delete(form.get('code') ?? '');
        grants.push({ grantType, clientId, auth, at: Date.now() });
        return send(200, answer(newAccessToken(), newRefreshToken(), GATEWAY_SCOPE));
      }
      if (grantType === 'refresh_token') {
        const rt = form.get('refresh_token') ?? '';
        if (!refreshTokens.has(rt)) return send(400, { error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked' });
        grants.push({ grantType, clientId, auth, at: Date.now() });
        let next: string | undefined = rt;
        if (rotate) {
          refreshTokens.delete(rt);
          next = newRefreshToken();
        }
        return send(200, answer(newAccessToken(), omitRefresh ? undefined : next, GATEWAY_SCOPE));
      }
      return send(400, { error: 'unsupported_grant_type' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issued,
    grants,
    revoked,
    setExpiresIn(s) {
      expiresIn = s;
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    failNext(error, status = 400, times = 1) {
      for (let i = 0; i < times; i++) failures.push({ error, status });
    },
    setRotateRefreshTokens(on) {
      rotate = on;
    },
    setOmitRefreshToken(on) {
      omitRefresh = on;
    },
    setGatewayInOtherTokens(on) {
      inOtherTokens = on;
    },
    mintLogin() {
      return { accessToken: newAccessToken(), refreshToken: newRefreshToken() };
    },
    approveLogin(authorizeUrl) {
      const u = new URL(authorizeUrl);
      const challenge = u.searchParams.get('code_challenge');
      if (!challenge || u.searchParams.get('code_challenge_method') !== 'S256') throw new Error('login URL without a PKCE S256 challenge');
      if (u.searchParams.get('redirect_uri') !== AUTH_CODE_REDIRECT) throw new Error('a native-app login must return to Globus\'s auth-code page');
      const code = `code-${randomBytes(8).toString('hex')}`;
      codes.set(code, { challenge, clientId: u.searchParams.get('client_id') ?? '', redirectUri: u.searchParams.get('redirect_uri') ?? '' });
      return code;
    },
    revokeRefreshToken(token) {
      refreshTokens.delete(token);
      revoked.add(token);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
