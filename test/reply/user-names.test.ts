/**
 * Names are cosmetic: however many ids a thread names and however Slack
 * answers, a lookup costs a bounded number of users.info calls and never waits.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { UserNames } from '../../src/reply/user-names.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

const { logger } = capturedLogger('error');
let slack: FakeSlack;
let redis: Redis;
let prefix: string;
beforeEach(async () => {
  slack = await startFakeSlack();
  redis = new Redis(inject('redisUrl'));
  prefix = `t${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  redis.disconnect();
  await slack.close();
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `U${String(i).padStart(5, '0')}`);
const names = () => new UserNames(createWebClient(BOT_TOKEN, slack.apiUrl, logger), redis, prefix, { maxLookupsPerRequest: 50 });

describe('UserNames', () => {
  it('3,000 ids cost at most the per-request cap of users.info calls; the rest stay ids', async () => {
    const all = ids(3000);
    for (const id of all) slack.setUserName(id, `name-${id}`);
    const got = await names().lookup(all);
    expect(slack.callsOf('users.info').length).toBe(50);
    expect(got.size).toBe(3000);
    expect(got.get('U00000')).toBe('name-U00000');
    expect(got.get('U02999')).toBe('U02999');
  });

  it('names are shared by the fleet: another process asks Slack only for names not yet known', async () => {
    slack.setUserName('U00001', 'Ada');
    await names().lookup(['U00001', 'U00002']);
    expect(slack.callsOf('users.info')).toHaveLength(2);
    const got = await names().lookup(['U00001', 'U00002', 'U00003']);
    expect(got.get('U00001')).toBe('Ada');
    expect(slack.callsOf('users.info')).toHaveLength(3);
    expect(await redis.ttl(`${prefix}:slack-name:U00001`)).toBeGreaterThan(0);
  });

  it('when Slack says wait, answers at once with ids, and the fleet stops asking until the wait is over', async () => {
    slack.setRateLimit('users.info', { perMinute: 3, retryAfterSeconds: 60 });
    const started = Date.now();
    const got = await names().lookup(ids(20));
    // Without waiting out the 60 s Retry-After (the test would time out).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(got.size).toBe(20);
    const asked = slack.callsOf('users.info').length;
    expect(asked).toBeLessThan(20);
    const again = await names().lookup(ids(40).slice(20));
    expect(again.get('U00030')).toBe('U00030');
    expect(slack.callsOf('users.info')).toHaveLength(asked);
  });
});
