/**
 * The client-credentials token against a Globus-shaped fake and a real Redis:
 * encrypted at rest, one grant for many concurrent callers in several
 * "processes", a dead lock holder replaced after its lock expires.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AccessTokenSource, createAccessTokenSource } from '../../src/auth/access-token.ts';
import type { AccessMode } from '../../src/config.ts';
import { MetisError } from '../../src/errors.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { type FakeGlobus, GATEWAY_SCOPE, GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, startFakeGlobus } from '../fakes/globus.ts';

let redis: Redis;
let globus: FakeGlobus;
const { logger, lines: logLines } = capturedLogger('debug');

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await globus?.close();
});

function source(prefix: string, keys: Buffer[], extra: { lockTtlMs?: number } = {}): AccessTokenSource {
  const access: AccessMode = {
    kind: 'client-credentials',
    clientId: GLOBUS_CLIENT_ID,
    clientSecret: GLOBUS_CLIENT_SECRET,
    scope: GATEWAY_SCOPE,
    authUrl: globus.url,
    clientAuth: 'post',
  };
  // A separate Redis connection per source, as separate processes would have.
  return createAccessTokenSource(access, { redis: new Redis(inject('redisUrl')), keyPrefix: prefix, keys, logger, ...extra });
}

describe('client-credentials access token', () => {
  it('obtains a token with the credentials in the form body and keeps it only encrypted in Redis', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    const token = await source(prefix, [randomBytes(32)]).get();
    expect(token).toBe(globus.issued[0]);
    expect(globus.grants[0]).toMatchObject({ grantType: 'client_credentials', auth: 'post', scope: GATEWAY_SCOPE });
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const v = (await redis.type(k)) === 'string' ? await redis.get(k) : '';
      expect(v).not.toContain(token);
      expect(v).not.toContain(GLOBUS_CLIENT_SECRET);
    }
    const logs = logLines.join('');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(GLOBUS_CLIENT_SECRET);
  });

  it('50 concurrent requests in two processes at expiry cause one grant', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
    globus.setDelayMs(100);
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    const key = randomBytes(32);
    const a = source(prefix, [key]);
    const b = source(prefix, [key]);
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).get()));
    expect(new Set(tokens).size).toBe(1);
    expect(globus.grants).toHaveLength(1);
  });

  it('renews after the gateway reports the token expired, once across processes', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    const key = randomBytes(32);
    const a = source(prefix, [key]);
    const b = source(prefix, [key]);
    const first = await a.get();
    await a.invalidate(first);
    await b.invalidate(first);
    const [x, y] = await Promise.all([a.get(), b.get()]);
    expect(x).toBe(y);
    expect(x).not.toBe(first);
    expect(globus.grants).toHaveLength(2);
  });

  it('a lock holder that died is replaced once its lock expires', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    await redis.set(`${prefix}:auth:renew-lock`, 'a-process-that-died', 'PX', 400);
    const started = Date.now();
    const token = await source(prefix, [randomBytes(32)], { lockTtlMs: 400 }).get();
    expect(token).toBe(globus.issued[0]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('a rejected client is a clear, permanent failure that names no secret', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: 'the-right-secret' });
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    const err = await source(prefix, [randomBytes(32)])
      .get()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetisError);
    expect((err as MetisError).code).toBe('token_grant_failed');
    expect((err as MetisError).retryable).toBe(false);
    expect((err as MetisError).message).toContain('invalid_client');
    expect(logLines.join('')).not.toContain(GLOBUS_CLIENT_SECRET);
  });

  it('a token sealed under an old key is still used after the key is rotated', async () => {
    globus = await startFakeGlobus({ clientId: GLOBUS_CLIENT_ID, clientSecret: GLOBUS_CLIENT_SECRET });
    const prefix = `auth${randomBytes(3).toString('hex')}`;
    const oldKey = randomBytes(32);
    const token = await source(prefix, [oldKey]).get();
    expect(await source(prefix, [randomBytes(32), oldKey]).get()).toBe(token);
    expect(globus.grants).toHaveLength(1);
  });
});
