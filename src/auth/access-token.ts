/**
 * Metis access for every worker: the one module that owns the access token.
 *
 * - static: METIS_ACCESS_TOKEN, used as given until it fails.
 * - client-credentials: a Globus confidential client. The token is cached in
 *   Redis, encrypted, and renewed before it expires by exactly one process at
 *   a time (a Redis lock); the others wait briefly and read the new token.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import type { AccessMode } from '../config.ts';
import { AccessTokenRejected, MetisError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { TokenCrypto } from './token-crypto.ts';

export interface AccessTokenSource {
  /** A token believed valid now. */
  get(): Promise<string>;
  /** Called when the gateway said `token` is expired or inactive; the next get() renews. */
  invalidate(token: string): Promise<void>;
  readonly mode: AccessMode['kind'];
}

interface StoredToken {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  obtainedAt: number;
  /** When to renew: `refreshSkewMs` before expiry, but never before half the token's life. */
  renewAt: number;
}

export interface ClientCredentialsOptions {
  redis: Redis;
  keyPrefix: string;
  crypto: TokenCrypto;
  logger: Logger;
  /** Renew this long before expiry (Globus tokens live 48 h). */
  refreshSkewMs?: number;
  lockTtlMs?: number;
  waitForPeerMs?: number;
}

/** Releases a lock only if we still hold it (another process may have taken it after expiry). */
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class StaticAccessToken implements AccessTokenSource {
  readonly mode = 'static' as const;
  constructor(private readonly token: string) {}
  async get() {
    return this.token;
  }
  async invalidate() {
    // A static token cannot be renewed; the caller reports that a person must act.
  }
}

class ClientCredentialsAccessToken implements AccessTokenSource {
  readonly mode = 'client-credentials' as const;
  private memo?: StoredToken;
  private inFlight?: Promise<string>;
  private readonly tokenKey: string;
  private readonly lockKey: string;
  private readonly oidcConfig: oidc.Configuration;
  private readonly skewMs: number;
  private readonly lockTtlMs: number;
  private readonly waitForPeerMs: number;

  constructor(
    private readonly access: Extract<AccessMode, { kind: 'client-credentials' }>,
    private readonly opts: ClientCredentialsOptions,
  ) {
    this.tokenKey = `${opts.keyPrefix}:auth:access-token`;
    this.lockKey = `${opts.keyPrefix}:auth:renew-lock`;
    this.skewMs = opts.refreshSkewMs ?? 10 * 60_000;
    this.lockTtlMs = opts.lockTtlMs ?? 30_000;
    this.waitForPeerMs = opts.waitForPeerMs ?? this.lockTtlMs + 5_000;
    const authUrl = access.authUrl.replace(/\/+$/, '');
    // Globus has no discovery we rely on; name the token endpoint directly.
    this.oidcConfig = new oidc.Configuration(
      { issuer: authUrl, token_endpoint: `${authUrl}/v2/oauth2/token` },
      access.clientId,
      undefined,
      // Credentials in the form body: Globus's handling of form-encoded Basic credentials is uncertain.
      oidc.ClientSecretPost(access.clientSecret),
    );
    this.oidcConfig.timeout = 20;
    if (authUrl.startsWith('http://')) oidc.allowInsecureRequests(this.oidcConfig);
  }

  private fresh(t: StoredToken | undefined): t is StoredToken {
    return t !== undefined && t.renewAt > Date.now();
  }

  private async readShared(): Promise<StoredToken | undefined> {
    const sealed = await this.opts.redis.get(this.tokenKey);
    if (!sealed) return undefined;
    const plain = this.opts.crypto.open(sealed, this.tokenKey);
    if (!plain) {
      this.opts.logger.warn({ key: this.tokenKey }, 'stored access token cannot be decrypted with TOKEN_ENCRYPTION_KEY; obtaining a new one');
      return undefined;
    }
    return JSON.parse(plain) as StoredToken;
  }

  async get(): Promise<string> {
    if (this.fresh(this.memo)) return this.memo.accessToken;
    // One renewal per process at a time; concurrent callers share it.
    this.inFlight ??= this.obtain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async obtain(): Promise<string> {
    const deadline = Date.now() + this.waitForPeerMs;
    for (;;) {
      const shared = await this.readShared();
      if (this.fresh(shared)) {
        this.memo = shared;
        return shared.accessToken;
      }
      const lockId = randomUUID();
      const locked = await this.opts.redis.set(this.lockKey, lockId, 'PX', this.lockTtlMs, 'NX');
      if (locked === 'OK') {
        try {
          // Another process may have renewed between our read and our lock.
          const again = await this.readShared();
          if (this.fresh(again)) {
            this.memo = again;
            return again.accessToken;
          }
          const token = await this.grant();
          await this.opts.redis.set(
            this.tokenKey,
            this.opts.crypto.seal(JSON.stringify(token), this.tokenKey),
            'PX',
            Math.max(1000, token.expiresAt - Date.now()),
          );
          this.memo = token;
          return token.accessToken;
        } finally {
          await this.opts.redis.eval(RELEASE_LOCK, 1, this.lockKey, lockId).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) {
        throw new MetisError('token_grant_failed', 'timed out waiting for another process to renew the access token', {}, true);
      }
      await sleep(100);
    }
  }

  private async grant(): Promise<StoredToken> {
    const started = Date.now();
    let response: oidc.TokenEndpointResponse;
    try {
      response = await oidc.clientCredentialsGrant(this.oidcConfig, { scope: this.access.scope });
    } catch (err) {
      const code = err instanceof oidc.ResponseBodyError ? err.error : (err as { code?: string }).code;
      const permanent = err instanceof oidc.ResponseBodyError && ['invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_grant'].includes(err.error);
      this.opts.logger.error(
        { err: { name: (err as Error).name, code, message: (err as Error).message }, clientId: this.access.clientId },
        'Globus client-credentials grant failed: check GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET and GLOBUS_SCOPE',
      );
      throw new MetisError('token_grant_failed', `client-credentials grant failed: ${code ?? 'network error'}`, {}, !permanent, { cause: err });
    }
    const expiresInS = response.expires_in ?? 172_800;
    this.opts.logger.info({ expiresInSeconds: expiresInS, clientId: this.access.clientId }, 'obtained a new Metis access token');
    const lifetimeMs = expiresInS * 1000;
    return {
      accessToken: response.access_token,
      expiresAt: started + lifetimeMs,
      obtainedAt: started,
      renewAt: started + Math.max(lifetimeMs - this.skewMs, lifetimeMs / 2),
    };
  }

  async invalidate(token: string): Promise<void> {
    if (this.memo?.accessToken === token) this.memo = undefined;
    const shared = await this.readShared();
    if (shared?.accessToken === token) await this.opts.redis.del(this.tokenKey);
  }
}

/**
 * Runs `call` with a token. When the gateway says the token is expired or
 * inactive, the token is dropped, renewed once, and `call` runs once more.
 * (A static token cannot be renewed, so its rejection goes straight back.)
 */
export async function withAccessToken<T>(source: AccessTokenSource, call: (token: string) => Promise<T>): Promise<T> {
  const token = await source.get();
  try {
    return await call(token);
  } catch (err) {
    if (!(err instanceof AccessTokenRejected) || !err.renewable || source.mode === 'static') throw err;
    await source.invalidate(token);
    return call(await source.get());
  }
}

export function createAccessTokenSource(
  access: AccessMode,
  deps: { redis: Redis; keyPrefix: string; keys: Buffer[]; logger: Logger } & Pick<
    ClientCredentialsOptions,
    'refreshSkewMs' | 'lockTtlMs' | 'waitForPeerMs'
  >,
): AccessTokenSource {
  if (access.kind === 'static') return new StaticAccessToken(access.accessToken);
  return new ClientCredentialsAccessToken(access, {
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    crypto: new TokenCrypto(deps.keys),
    logger: deps.logger.child({ component: 'access-token' }),
    refreshSkewMs: deps.refreshSkewMs,
    lockTtlMs: deps.lockTtlMs,
    waitForPeerMs: deps.waitForPeerMs,
  });
}
