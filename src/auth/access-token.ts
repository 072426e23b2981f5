/**
 * Metis access for every worker: the one module that owns the access token.
 *
 * - static: METIS_ACCESS_TOKEN, used as given until it fails; never renewed.
 * - client-credentials: a Globus confidential client (ALCF's service account).
 * - user-login: a person's login (`metis-bot auth login` / `auth import`),
 *   renewed with its refresh token; a rotated refresh token is stored with
 *   its access token in one write.
 *
 * Tokens live in Redis, encrypted (token-store). Renewal happens well before
 * expiry, by exactly one process at a time (a Redis lock); the others wait
 * briefly and read the new token. A holder that dies mid-renewal is replaced
 * once its lock expires.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Configuration } from 'openid-client';
import type { AccessMode } from '../config.ts';
import { AccessTokenRejected, MetisError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AccessHealth } from './access-health.ts';
import { clientCredentialsGrant, GlobusError, globusConfiguration, refreshGrant } from './globus.ts';
import { TokenCrypto } from './token-crypto.ts';
import { countRenewal } from '../metrics/instrument.ts';
import { renewAtFor, type StoredAccess, TokenStore } from './token-store.ts';
import { redisKeys } from '../redis-keys.ts';

export interface AccessTokenSource {
  readonly mode: AccessMode['kind'];
  /** A token believed valid now. */
  get(): Promise<string>;
  /** The gateway said `token` is expired or inactive; the next get() renews. */
  invalidate(token: string): Promise<void>;
  /** Renews now if the stored token is due (called on a timer, so renewal does not wait for traffic). */
  renewIfDue(): Promise<void>;
}

export interface SharedTokenOptions {
  redis: Redis;
  keyPrefix: string;
  keys: Buffer[];
  logger: Logger;
  health?: AccessHealth;
  lockTtlMs?: number;
  waitForPeerMs?: number;
}

/** Releases a lock only if we still hold it (another process may have taken it after expiry). */
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A token's fingerprint: enough to recognise it, useless to anyone who reads Redis. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 32);
}

class StaticAccessToken implements AccessTokenSource {
  readonly mode = 'static' as const;
  constructor(private readonly token: string) {}
  async get() {
    return this.token;
  }
  async invalidate() {
    // A static token cannot be renewed; the caller reports that a person must act.
  }
  async renewIfDue() {}
}

class SharedAccessToken implements AccessTokenSource {
  private memo?: StoredAccess;
  private inFlight?: Promise<string>;
  private readonly store: TokenStore;
  private readonly lockKey: string;
  private readonly rejectedKey: string;
  private readonly globus: Configuration;
  private readonly lockTtlMs: number;
  private readonly waitForPeerMs: number;

  constructor(
    private readonly access: Extract<AccessMode, { kind: 'client-credentials' | 'user-login' }>,
    private readonly opts: SharedTokenOptions,
  ) {
    this.store = new TokenStore(opts.redis, opts.keyPrefix, new TokenCrypto(opts.keys), opts.logger);
    this.lockKey = redisKeys(opts.keyPrefix).authRenewLock;
    this.rejectedKey = redisKeys(opts.keyPrefix).authRejected;
    this.lockTtlMs = opts.lockTtlMs ?? 30_000;
    this.waitForPeerMs = opts.waitForPeerMs ?? this.lockTtlMs + 5_000;
    this.globus = globusConfiguration({
      authUrl: access.authUrl,
      clientId: access.clientId,
      ...(access.kind === 'client-credentials' ? { clientSecret: access.clientSecret, clientAuth: access.clientAuth } : {}),
    });
  }

  get mode() {
    return this.access.kind;
  }

  private fresh(t: StoredAccess | undefined, rejected?: string | null): t is StoredAccess {
    return t !== undefined && t.mode === this.access.kind && t.renewAt > Date.now() && fingerprint(t.accessToken) !== rejected;
  }

  /** The stored token, and the fingerprint of a token the gateway rejected (so it is not handed out again). */
  private async readShared(): Promise<[StoredAccess | undefined, string | null]> {
    return Promise.all([this.store.read(), this.opts.redis.get(this.rejectedKey)]);
  }

  async get(): Promise<string> {
    if (this.fresh(this.memo)) return this.memo.accessToken;
    // One renewal per process at a time; concurrent callers share it.
    this.inFlight ??= this.obtain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async renewIfDue(): Promise<void> {
    const [stored, rejected] = await this.readShared();
    if (stored && !this.fresh(stored, rejected)) await this.get();
  }

  private async obtain(): Promise<string> {
    const deadline = Date.now() + this.waitForPeerMs;
    for (;;) {
      const [shared, rejected] = await this.readShared();
      if (this.fresh(shared, rejected)) {
        this.memo = shared;
        return shared.accessToken;
      }
      const lockId = randomUUID();
      if ((await this.opts.redis.set(this.lockKey, lockId, 'PX', this.lockTtlMs, 'NX')) === 'OK') {
        try {
          // Another process may have renewed between our read and our lock.
          const [again, rejectedNow] = await this.readShared();
          if (this.fresh(again, rejectedNow)) {
            this.memo = again;
            return again.accessToken;
          }
          const renewed = await countRenewal(this.access.kind, this.renew(again));
          await this.store.write(renewed);
          this.memo = renewed;
          return renewed.accessToken;
        } finally {
          await this.opts.redis.eval(RELEASE_LOCK, 1, this.lockKey, lockId).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) throw new MetisError('token_grant_failed', 'timed out waiting for another process to renew the Metis token', {}, true);
      await sleep(100);
    }
  }

  /** One grant at Globus: client credentials, or the refresh token of the stored login. */
  private async renew(current: StoredAccess | undefined): Promise<StoredAccess> {
    const started = Date.now();
    const log = this.opts.logger.child({ component: 'access-token', mode: this.access.kind, clientId: this.access.clientId });
    try {
      if (this.access.kind === 'client-credentials') {
        const t = await clientCredentialsGrant(this.globus, this.access.scope);
        const expiresAt = started + t.expiresInSeconds * 1000;
        log.info({ expiresInSeconds: t.expiresInSeconds }, 'obtained a new Metis access token');
        return {
          mode: 'client-credentials',
          clientId: this.access.clientId,
          accessToken: t.accessToken,
          expiresAt,
          renewAt: renewAtFor(started, expiresAt),
          obtainedAt: started,
          origin: 'grant',
          lastRefreshAt: started,
        };
      }
      if (!current?.refreshToken) {
        await this.opts.health?.needsPerson({
          code: 'no_login',
          detail: 'no Metis login is stored in Redis for this bot',
          fix: 'run `metis-bot auth login` (or `metis-bot auth import FILE`) where REDIS_URL and TOKEN_ENCRYPTION_KEY are set as for the bot',
        });
        throw new MetisError('access_not_configured', 'no stored login to refresh');
      }
      const t = await refreshGrant(this.globus, current.refreshToken);
      const expiresAt = started + t.expiresInSeconds * 1000;
      log.info({ expiresInSeconds: t.expiresInSeconds, rotated: t.refreshToken !== undefined && t.refreshToken !== current.refreshToken }, 'refreshed the Metis access token');
      return {
        ...current,
        accessToken: t.accessToken,
        // Globus may answer without a refresh token: keep the one we have.
        refreshToken: t.refreshToken ?? current.refreshToken,
        expiresAt,
        renewAt: renewAtFor(started, expiresAt),
        obtainedAt: started,
        lastRefreshAt: started,
      };
    } catch (err) {
      if (err instanceof GlobusError) {
        log.error({ oauthError: err.oauthError, needsPerson: err.needsPerson }, 'Globus refused to renew the Metis token');
        if (err.needsPerson) {
          await this.opts.health?.needsPerson(
            this.access.kind === 'client-credentials'
              ? {
                  code: 'grant_refused',
                  detail: `Globus refused the service account's client-credentials grant: ${err.oauthError}`,
                  fix: 'check GLOBUS_CLIENT_ID and GLOBUS_CLIENT_SECRET (create a new secret at app.globus.org → Settings → Developers if needed) and restart the bot',
                }
              : {
                  code: 'login_expired',
                  detail: `Globus refused the stored refresh token: ${err.oauthError} (the login expired or was revoked)`,
                  fix: 'run `metis-bot auth login` again (or `metis-bot auth import FILE` with a fresh tokens file)',
                },
          );
        }
      }
      throw err;
    }
  }

  async invalidate(token: string): Promise<void> {
    if (this.memo?.accessToken === token) this.memo = undefined;
    // Only the lock holder writes the stored tokens (a write here could undo a renewal that just
    // happened); marking the rejected token is enough for the next get() to renew.
    await this.opts.redis.set(this.rejectedKey, fingerprint(token), 'EX', 3600);
  }
}

/**
 * Runs `call` with a token. When the gateway says the token is expired or
 * inactive, the token is renewed once and `call` runs once more. Refusals no
 * renewal can fix (a policy, identity provider or group check; a static token
 * that expired) mark access as needing a person.
 */
export async function withAccessToken<T>(source: AccessTokenSource, call: (token: string) => Promise<T>, health?: AccessHealth): Promise<T> {
  const attempt = async (token: string) => {
    const result = await call(token);
    await health?.worked();
    return result;
  };
  const token = await source.get();
  try {
    return await attempt(token);
  } catch (err) {
    if (!(err instanceof AccessTokenRejected)) throw err;
    if (err.renewable && source.mode !== 'static') {
      await source.invalidate(token);
      try {
        return await attempt(await source.get());
      } catch (again) {
        if (again instanceof AccessTokenRejected) await markRefused(health, source, again);
        throw again;
      }
    }
    await markRefused(health, source, err);
    throw err;
  }
}

async function markRefused(health: AccessHealth | undefined, source: AccessTokenSource, err: AccessTokenRejected) {
  if (!health) return;
  if (source.mode === 'static') {
    await health.needsPerson({
      code: 'token_expired',
      detail: `the gateway refused METIS_ACCESS_TOKEN: ${err.message}`,
      fix: 'set a fresh METIS_ACCESS_TOKEN (python inference_auth_token.py get_access_token) and restart, or configure a service account (GLOBUS_CLIENT_ID/GLOBUS_CLIENT_SECRET)',
    });
    return;
  }
  await health.needsPerson({
    code: 'gateway_refused',
    detail: `the gateway refused the bot's token: ${err.message}`,
    fix:
      source.mode === 'client-credentials'
        ? "ask ALCF support to allow the service account (<GLOBUS_CLIENT_ID>@clients.auth.globus.org) on the inference gateway"
        : 'log out at https://app.globus.org/logout, then run `metis-bot auth login` with an identity ALCF accepts',
  });
}

export function createAccessTokenSource(access: AccessMode, deps: SharedTokenOptions): AccessTokenSource {
  if (access.kind === 'static') return new StaticAccessToken(access.accessToken);
  return new SharedAccessToken(access, deps);
}
