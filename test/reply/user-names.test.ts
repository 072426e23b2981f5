/**
 * Names are cosmetic: however many ids a thread names and however Slack
 * answers, a lookup costs a bounded number of users.info calls and never waits.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { UserNames, type UserNamesOptions } from '../../src/reply/user-names.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

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
const names = (opts: UserNamesOptions = {}) => new UserNames(createWebClient(BOT_TOKEN, slack.apiUrl, logger), redis, prefix, { maxLookupsPerRequest: 50, ...opts });

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

  it("a fleet naming many new people stays under users.info's tier by design: the minute's budget, shared, and no 429", async () => {
    slack.setRateLimit('users.info', { perMinute: 100 }); // Tier 4, per workspace
    const clock = new ManualClock();
    const fleet = [names({ clock }), names({ clock }), names({ clock })];
    const threads = Array.from({ length: 6 }, (_, t) => ids(300).slice(t * 50, t * 50 + 50));
    for (const id of ids(300)) slack.setUserName(id, `name-${id}`);
    // Six threads of 50 new people each, two per process, all at once: 300 ids wanted, 60 looked up.
    const got = await Promise.all(threads.map((thread, t) => fleet[t % 3]?.lookup(thread)));
    const named = got.flatMap((m) => [...(m?.entries() ?? [])]).filter(([id, name]) => name === `name-${id}`);
    expect(slack.callsOf('users.info')).toHaveLength(60);
    expect(slack.rateLimited.get('users.info') ?? 0).toBe(0);
    expect(named).toHaveLength(60);
    expect(got.every((m) => m?.size === 50)).toBe(true); // the others stay ids
    // Spent for this minute: asked again, nobody calls Slack.
    await fleet[0]?.lookup(ids(300).slice(250));
    expect(slack.callsOf('users.info')).toHaveLength(60);
    // The next minute has a budget of its own; names found before are not asked for again.
    clock.advance(60_000);
    const newcomers = ids(340).slice(300);
    for (const id of newcomers) slack.setUserName(id, `name-${id}`);
    const [knownId] = named[0] ?? [];
    const later = await fleet[1]?.lookup([knownId ?? '', ...newcomers]);
    expect(slack.callsOf('users.info')).toHaveLength(100);
    expect([...(later?.entries() ?? [])].every(([id, name]) => name === `name-${id}`)).toBe(true);
  });

  it('with no budget (METIS_SLACK_NAME_LOOKUPS_PER_MINUTE=0) never asks Slack: cached names are still used', async () => {
    await redis.set(`${prefix}:slack-name:U00001`, 'Ada');
    const got = await names({ lookupsPerMinute: 0 }).lookup(['U00001', 'U00002']);
    expect(got.get('U00001')).toBe('Ada');
    expect(got.get('U00002')).toBe('U00002');
    expect(slack.callsOf('users.info')).toHaveLength(0);
  });
});
