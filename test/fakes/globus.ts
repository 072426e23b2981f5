/**
 * A fake Globus Auth token endpoint ({root}/v2/oauth2/token) for the
 * client-credentials grant, answering in Globus's shape (resource_server,
 * other_tokens). It accepts client credentials in the form body or as HTTP
 * Basic, raw or form-encoded, and counts the grants it gives.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const GATEWAY_RESOURCE_SERVER = '681c10cc-f684-4540-bcd7-0b4df3bc26ef';
/** The service account the tests use; the secret has characters that form-encoding changes. */
export const GLOBUS_CLIENT_ID = '0c0ffee0-1234-4abc-8def-0123456789ab';
export const GLOBUS_CLIENT_SECRET = 'sEcReT+/with=odd-chars';
export const GATEWAY_SCOPE = `https://auth.globus.org/scopes/${GATEWAY_RESOURCE_SERVER}/action_all`;

export interface FakeGlobus {
  url: string;
  /** Access tokens issued, in order. */
  issued: string[];
  grants: { grantType: string; clientId: string; scope?: string; auth: 'post' | 'basic'; at: number }[];
  /** Seconds the next tokens live (Globus: 172800). */
  setExpiresIn(seconds: number): void;
  /** Delay before answering a grant, to widen races in tests. */
  setDelayMs(ms: number): void;
  /** Makes the next grants fail with an OAuth error (e.g. invalid_client). */
  failNext(error: string, status?: number, times?: number): void;
  close(): Promise<void>;
}

export async function startFakeGlobus(opts: { clientId: string; clientSecret: string; onIssue?: (token: string) => void }): Promise<FakeGlobus> {
  const issued: string[] = [];
  const grants: FakeGlobus['grants'] = [];
  let expiresIn = 172_800;
  let delayMs = 0;
  const failures: { error: string; status: number }[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/v2/oauth2/token') return send(404, { error: 'not_found' });
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      let clientId = form.get('client_id') ?? '';
      let secret = form.get('client_secret') ?? '';
      let auth: 'post' | 'basic' = 'post';
      const header = req.headers.authorization;
      if (header?.startsWith('Basic ')) {
        auth = 'basic';
        const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
        const at = decoded.indexOf(':');
        // Accept both raw and RFC 6749 form-encoded Basic credentials.
        clientId = decodeURIComponent(decoded.slice(0, at));
        secret = decodeURIComponent(decoded.slice(at + 1));
      }
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const failure = failures.shift();
      if (failure) return send(failure.status, { error: failure.error, error_description: `injected ${failure.error}` });
      if (clientId !== opts.clientId || secret !== opts.clientSecret) return send(401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
      const grantType = form.get('grant_type') ?? '';
      if (grantType !== 'client_credentials') return send(400, { error: 'unsupported_grant_type' });
      const scope = form.get('scope') ?? undefined;
      grants.push({ grantType, clientId, scope, auth, at: Date.now() });
      const token = `Ag${randomBytes(24).toString('hex')}`;
      issued.push(token);
      opts.onIssue?.(token);
      send(200, {
        access_token: token,
        expires_in: expiresIn,
        resource_server: GATEWAY_RESOURCE_SERVER,
        token_type: 'Bearer',
        scope: scope ?? GATEWAY_SCOPE,
        state: '_default',
        other_tokens: [],
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issued,
    grants,
    setExpiresIn(s) {
      expiresIn = s;
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    failNext(error, status = 400, times = 1) {
      for (let i = 0; i < times; i++) failures.push({ error, status });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
