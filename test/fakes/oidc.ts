/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1, laid out
 * like Globus Auth: token endpoint `/v2/oauth2/token`, revocation endpoint
 * `/v2/oauth2/token/revoke`, authorization endpoint `/v2/oauth2/authorize`.
 *
 * Why a real provider rather than a hand-written fake: the bot obtains and
 * refreshes tokens through `openid-client`, and what matters is that it gets
 * client authentication, error bodies (`invalid_client`, `invalid_grant`),
 * refresh-token rotation and revocation right against an implementation that
 * follows the RFCs to the letter. shared/contracts/stack.md §4 records the
 * configuration this file is built on.
 *
 * Globus has no RFC 8707 `resource` parameter; the client sends `scope` only.
 * Resource indicators are therefore configured so that the provider falls back
 * to a default resource (and, for refresh and code grants, to the resource
 * already granted) whenever the request carries none.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Configuration, InteractionResults, KoaContextWithOIDC } from 'oidc-provider';

// ─── Public API ─────────────────────────────────────────────────────────────

export interface OidcFixture {
  /** Issuer / root URL, e.g. http://127.0.0.1:PORT (token endpoint = `${url}/v2/oauth2/token`). */
  url: string;
  /** A confidential client for the client-credentials and refresh-token grants (token_endpoint_auth_method client_secret_post). */
  confidential: { clientId: string; clientSecret: string };
  /** A confidential client that authenticates with client_secret_basic. */
  basicClient: { clientId: string; clientSecret: string };
  /** A public (native-app) client: token_endpoint_auth_method 'none', PKCE required, for the refresh-token grant. */
  publicClient: { clientId: string };
  /** The scope a client may ask for (the resource server's scope), e.g. 'compute:run'. */
  scope: string;
  /**
   * Runs a scripted authorization-code + PKCE flow for `clientId` (auto-login user 'alice', auto-consent, scope incl. offline_access)
   * and returns the token endpoint's answer: { access_token, refresh_token, expires_in, ... }.
   */
  obtainRefreshToken(clientId: string): Promise<{ access_token: string; refresh_token: string; expires_in?: number }>;
  /** Counts of successful grants by grant_type, observed at the token endpoint. */
  grants: Record<string, number>;
  close(): Promise<void>;
}

// ─── Constants ──────────────────────────────────────────────────────────────

const SCOPE = 'compute:run';
/** The resource server every token is for; clients never name it (Globus has no `resource` parameter). */
const RESOURCE = 'urn:fake-globus:metis-gateway';
const ACCOUNT = 'alice';
/** Never actually served: the redirect follower stops as soon as it is sent here. */
const REDIRECT_URI = 'http://127.0.0.1/callback';
const ROUTES = {
  authorization: '/v2/oauth2/authorize',
  token: '/v2/oauth2/token',
  revocation: '/v2/oauth2/token/revoke',
};

// ─── Loading the package quietly ────────────────────────────────────────────

/**
 * oidc-provider prints "Unsupported runtime" on import under Node 20, and
 * warns about its in-memory adapter and development keys on construction.
 * All three are expected in a test fixture, so they are dropped while the
 * module loads and the provider is built; nothing else is filtered.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

// ─── The fixture ────────────────────────────────────────────────────────────

export async function startOidcProvider(
  opts: { rotateRefreshToken?: boolean; accessTokenTtlSeconds?: number } = {},
): Promise<OidcFixture> {
  const accessTokenTTL = opts.accessTokenTtlSeconds ?? 600;
  const confidential = { clientId: 'metis-bot-post', clientSecret: randomBytes(24).toString('base64url') };
  const basicClient = { clientId: 'metis-bot-basic', clientSecret: randomBytes(24).toString('base64url') };
  const publicClient = { clientId: 'metis-bot-native' };

  // The issuer must be known before the provider is built, so the port is taken first.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const confidentialMetadata = {
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'] as const,
    redirect_uris: [REDIRECT_URI],
    scope: `openid offline_access ${SCOPE}`,
  };
  const configuration: Configuration = {
    clients: [
      {
        ...confidentialMetadata,
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        ...confidentialMetadata,
        client_id: basicClient.clientId,
        client_secret: basicClient.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        // PKCE is mandatory for clients with auth method 'none' (oidc-provider's pkce.required default).
        client_id: publicClient.clientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        scope: `openid offline_access ${SCOPE}`,
      },
    ],
    routes: ROUTES,
    // Client `scope` metadata may only list scopes the provider knows; resource scopes count only if listed here.
    scopes: ['openid', 'offline_access', SCOPE],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // Same rule as the default, minus its "you SHOULD change this" notice.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // No `resource` in the request → the one resource server there is.
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? RESOURCE,
        // Code and refresh grants without `resource` → the resource the grant already covers.
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenFormat: 'opaque',
          accessTokenTTL,
        }),
      },
    },
    rotateRefreshToken: opts.rotateRefreshToken ?? false,
    // Explicit TTLs: the defaults print a notice each time they are consulted.
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 3600,
      Grant: 14 * 24 * 3600,
    },
    // Errors that cannot go back to a redirect_uri: plain JSON, and no "customise me" notice from the default page.
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };

  const { default: Provider } = await quietly(() => import('oidc-provider'));
  const provider = await quietly(async () => new Provider(url, configuration));

  const grants: Record<string, number> = {};
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    grants[grantType] = (grants[grantType] ?? 0) + 1;
  });

  /**
   * The whole "user": logs in as alice, then consents to everything the
   * client asked for. oidc-provider redirects here once per prompt.
   */
  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    let result: InteractionResults;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: ACCOUNT } };
    } else if (details.prompt.name === 'consent') {
      const clientId = String(details.params.client_id);
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: ACCOUNT, clientId });
      if (!grant) throw new Error(`grant ${details.grantId} vanished`);
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope);
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes);
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      throw new Error(`unexpected prompt ${details.prompt.name}`);
    }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((err: unknown) => {
        // Surfaces in obtainRefreshToken's "expected a redirect" error, with this text.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${String(err)}`);
      });
      return;
    }
    callback(req, res);
  });

  const clients = new Map<string, { clientSecret?: string; auth: 'post' | 'basic' | 'none' }>([
    [confidential.clientId, { clientSecret: confidential.clientSecret, auth: 'post' }],
    [basicClient.clientId, { clientSecret: basicClient.clientSecret, auth: 'basic' }],
    [publicClient.clientId, { auth: 'none' }],
  ]);

  async function obtainRefreshToken(
    clientId: string,
  ): Promise<{ access_token: string; refresh_token: string; expires_in?: number }> {
    const client = clients.get(clientId);
    if (!client) throw new Error(`unknown client ${clientId}`);

    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');
    const authorize = new URL(`${url}${ROUTES.authorization}`);
    authorize.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      // offline_access is only honoured together with prompt=consent.
      scope: `openid offline_access ${SCOPE}`,
      prompt: 'consent',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    }).toString();

    const landing = await followRedirects(authorize.href, REDIRECT_URI);
    const error = landing.searchParams.get('error');
    if (error) throw new Error(`authorization failed: ${error} ${landing.searchParams.get('error_description') ?? ''}`);
    if (landing.searchParams.get('state') !== state) throw new Error('authorization response state mismatch');
    const code = landing.searchParams.get('code');
    if (!code) throw new Error(`no code in ${landing.href}`);

    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (client.auth === 'basic') {
      // RFC 6749 §2.3.1: both halves form-urlencoded before base64.
      const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(client.clientSecret ?? '')}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else {
      body.set('client_id', clientId);
      if (client.auth === 'post') body.set('client_secret', client.clientSecret ?? '');
    }
    const res = await fetch(`${url}${ROUTES.token}`, { method: 'POST', headers, body });
    const json = (await res.json()) as { access_token?: string; refresh_token?: string; expires_in?: number };
    if (!res.ok || !json.access_token || !json.refresh_token) {
      throw new Error(`code exchange failed (${res.status}): ${JSON.stringify(json)}`);
    }
    return json as { access_token: string; refresh_token: string; expires_in?: number };
  }

  return {
    url,
    confidential,
    basicClient,
    publicClient,
    scope: SCOPE,
    obtainRefreshToken,
    grants,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from fetch would otherwise hold close() open for seconds.
        server.closeAllConnections();
      }),
  };
}

// ─── A browser, reduced to cookies and redirects ────────────────────────────

/**
 * GETs `start` and follows redirects by hand (fetch cannot expose cookies set
 * on intermediate responses), carrying the provider's session and interaction
 * cookies, until a redirect points at `stopAt`; returns that URL.
 *
 * Cookie paths are ignored: every cookie oidc-provider sets has its own name,
 * and everything here lives on one host.
 */
async function followRedirects(start: string, stopAt: string): Promise<URL> {
  const jar = new Map<string, string>();
  let current = new URL(start);
  for (let hop = 0; hop < 20; hop++) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(current, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expires = attributes.find((a) => a.trim().toLowerCase().startsWith('expires='));
      const expired = expires !== undefined && Date.parse(expires.split('=')[1] ?? '') <= Date.now();
      if (value === '' || expired) jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`expected a redirect from ${current.href}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    await res.body?.cancel();
    current = new URL(location, current);
    if (current.href.startsWith(stopAt)) return current;
  }
  throw new Error(`too many redirects starting at ${start}`);
}
