/**
 * Where the fleet keeps its Metis tokens: one Redis key, sealed with
 * AES-256-GCM (token-crypto). Written whole with one SET, so a rotated refresh
 * token is never stored apart from its access token.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { TokenCrypto } from './token-crypto.ts';
import { redisKeys } from '../redis-keys.ts';

export interface StoredAccess {
  mode: 'client-credentials' | 'user-login';
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** When to renew: well before expiry. */
  renewAt: number;
  obtainedAt: number;
  /** How it was first obtained: grant, login or import. */
  origin: 'grant' | 'login' | 'import';
  lastRefreshAt?: number;
  /**
   * When the person logged in (or imported the tokens, the latest the login can
   * have been): ALCF's periodic re-login is counted from it. Kept across refreshes.
   */
  loggedInAt?: number;
}

export class TokenStore {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly crypto: TokenCrypto,
    private readonly logger: Logger,
  ) {
    this.key = redisKeys(keyPrefix).authAccess;
  }

  async read(): Promise<StoredAccess | undefined> {
    const sealed = await this.redis.get(this.key);
    if (!sealed) return undefined;
    const plain = this.crypto.open(sealed, this.key);
    if (!plain) {
      this.logger.error({ key: this.key }, 'stored Metis tokens cannot be decrypted with any TOKEN_ENCRYPTION_KEY (was the key changed without keeping the old one?)');
      return undefined;
    }
    return JSON.parse(plain) as StoredAccess;
  }

  async write(access: StoredAccess): Promise<void> {
    await this.redis.set(this.key, this.crypto.seal(JSON.stringify(access), this.key));
  }

  async delete(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/** Renew at 10 minutes before expiry, but never before half the token's life has passed. */
export function renewAtFor(obtainedAt: number, expiresAt: number, skewMs = 10 * 60_000): number {
  const lifetime = expiresAt - obtainedAt;
  return obtainedAt + Math.max(lifetime - skewMs, lifetime / 2);
}
