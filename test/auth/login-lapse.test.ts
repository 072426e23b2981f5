/**
 * ALCF's periodic re-login: the admins hear about it a few days before a
 * person's login lapses, once per login and fleet-wide, not only after
 * questions start to wait.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { checkLoginLapse } from '../../src/auth/login-lapse.ts';
import { TokenCrypto } from '../../src/auth/token-crypto.ts';
import { type StoredAccess, TokenStore } from '../../src/auth/token-store.ts';
import { slackAccessNotifier } from '../../src/reply/admin-alerts.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

const DAY = 86_400_000;
const policy = { maxAgeMs: 30 * DAY, warnBeforeMs: 3 * DAY };
const { logger } = capturedLogger('warn');
let redis: Redis;
let slack: FakeSlack;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
afterEach(() => slack?.close());

async function setup(stored: Partial<StoredAccess>) {
  slack = await startFakeSlack();
  const keyPrefix = `lapse${randomBytes(3).toString('hex')}`;
  const store = new TokenStore(redis, keyPrefix, new TokenCrypto([randomBytes(32)]), logger);
  const loggedInAt = Date.UTC(2026, 10, 1);
  await store.write({ mode: 'user-login', clientId: 'c', accessToken: 'a', refreshToken: 'r', expiresAt: 0, renewAt: 0, obtainedAt: 0, origin: 'login', loggedInAt, ...stored });
  const notifier = slackAccessNotifier(createWebClient(BOT_TOKEN, slack.apiUrl, logger), { users: [], alertChannel: 'C0ALERTS', accessWaitMs: 0 }, logger);
  // Two processes of one fleet, each with its own notifier, checking the same login.
  const check = (now: number) => checkLoginLapse({ store, redis, keyPrefix, policy, notifier, now });
  const alerts = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && c.params.channel === 'C0ALERTS');
  return { store, check, alerts, loggedInAt };
}

describe('warning before a login lapses', () => {
  it('says nothing while the login is young, then tells the admins once, a few days ahead', async () => {
    const { check, alerts, loggedInAt } = await setup({});
    expect(await check(loggedInAt + 20 * DAY)).toBe('not-yet');
    expect(alerts()).toHaveLength(0);

    expect(await check(loggedInAt + 27.5 * DAY)).toBe('warned');
    const [alert] = alerts();
    expect(JSON.stringify(alert?.params)).toContain('due for renewal');
    expect(JSON.stringify(alert?.params)).toContain('metis-bot auth login');
    expect(JSON.stringify(alert?.params)).toContain(new Date(loggedInAt + 30 * DAY).toISOString().slice(0, 10));

    // Every later check, by any process, finds the warning already given.
    await Promise.all([check(loggedInAt + 28 * DAY), check(loggedInAt + 29 * DAY)]).then((r) => expect(r).toEqual(['already-warned', 'already-warned']));
    expect(alerts()).toHaveLength(1);
  });

  it('a new login is warned about in its turn', async () => {
    const { store, check, alerts, loggedInAt } = await setup({});
    expect(await check(loggedInAt + 28 * DAY)).toBe('warned');
    const relogin = loggedInAt + 28 * DAY;
    const stored = (await store.read()) as StoredAccess;
    await store.write({ ...stored, loggedInAt: relogin });
    expect(await check(relogin + DAY)).toBe('not-yet');
    expect(await check(relogin + 27 * DAY)).toBe('warned');
    expect(alerts()).toHaveLength(2);
  });

  it('leaves service accounts and logins of unknown age alone', async () => {
    const sa = await setup({ mode: 'client-credentials', origin: 'grant' });
    expect(await sa.check(sa.loggedInAt + 29 * DAY)).toBe('not-a-login');
    await slack.close();
    const old = await setup({ loggedInAt: undefined });
    expect(await old.check(Date.now() + 365 * DAY)).toBe('not-a-login');
  });
});
