/**
 * `metis-bot doctor` as an operator runs it: against working fakes and a
 * persistent Redis every check passes; each broken dependency is named with
 * its fix, and the exit code says something failed.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_SCOPES } from '../fakes/slack.ts';
import { botEnv, botProcesses } from '../helpers/process.ts';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

const bots = botProcesses();
let redis: TestRedis | undefined;
afterEach(async () => {
  await redis?.cleanup();
  redis = undefined;
});

/** The checklist's lines for one check: its status line and its fix, if any. */
function check(out: string[], name: string): { status?: string; detail?: string; fix?: string } {
  const i = out.findIndex((l) => new RegExp(`^\\[(ok|warn|FAIL)\\]\\s+${name}: `).test(l));
  if (i < 0) return {};
  const m = /^\[(ok|warn|FAIL)\]\s+[^:]+: (.*)$/.exec(out[i] as string);
  const fix = /^\s+fix: (.*)$/.exec(out[i + 1] ?? '')?.[1];
  return { status: m?.[1], detail: m?.[2], fix };
}

describe('metis-bot doctor', () => {
  it('passes every check against working dependencies and exits 0', async () => {
    redis = await startTestRedis();
    const { slack, gateway } = await bots.fakes();
    const p = bots.run(['doctor'], botEnv(slack, gateway, { REDIS_URL: redis.url }));
    expect(await p.exit).toBe(0);
    const out = p.stdout;
    for (const name of ['configuration', 'redis', 'redis persistence', 'redis eviction', 'slack', 'slack scopes', 'slack socket mode', 'metis token', 'gateway models', 'gateway jobs']) {
      expect(check(out, name).status, `${name}: ${out.join('\n')}`).toBe('ok');
    }
    expect(check(out, 'redis').detail).toMatch(/^Redis \d+\.\d+/);
    expect(check(out, 'metis token').detail).toMatch(/^mode static/);
    expect(out.at(-1)).toBe('All checks passed.');
    // It checked Slack the way the bot uses it: auth.test with the bot token, and a Socket Mode connection.
    expect(slack.callsOf('auth.test')).toHaveLength(1);
    expect(slack.callsOf('apps.connections.open')).toHaveLength(1);
  });

  it('names each broken dependency with its fix and exits 1', async () => {
    redis = await startTestRedis();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.config('SET', 'appendonly', 'no');
    admin.disconnect();
    const { slack, gateway } = await bots.fakes();
    slack.setGrantedScopes(MANIFEST_SCOPES.filter((s) => s !== 'usergroups:read' && s !== 'users:read'));
    const p = bots.run(['doctor'], botEnv(slack, gateway, { REDIS_URL: redis.url, METIS_ACCESS_TOKEN: 'a-token-the-gateway-refuses', SLACK_APP_TOKEN: 'xapp-1-wrong' }));
    expect(await p.exit).toBe(1);
    const out = p.stdout;
    expect(check(out, 'redis eviction')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('allkeys-lru'), fix: expect.stringContaining('noeviction') });
    expect(check(out, 'redis persistence')).toMatchObject({ status: 'FAIL', fix: expect.stringContaining('--appendonly yes') });
    expect(check(out, 'slack scopes')).toMatchObject({ status: 'FAIL', detail: 'missing users:read, usergroups:read', fix: expect.stringContaining('reinstall') });
    expect(check(out, 'slack socket mode')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('invalid_auth'), fix: expect.stringContaining('SLACK_APP_TOKEN') });
    expect(check(out, 'gateway models')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('401'), fix: expect.stringContaining('refused the token') });
    expect(check(out, 'slack').status).toBe('ok');
    expect(out.at(-1)).toBe('5 checks failed.');
    expect(out.join('\n')).not.toContain('a-token-the-gateway-refuses');
  });

  it('names an unreachable Redis and a refused bot token', async () => {
    const { slack, gateway } = await bots.fakes();
    const p = bots.run(['doctor'], botEnv(slack, gateway, { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, SLACK_BOT_TOKEN: 'xoxb-revoked' }));
    expect(await p.exit).toBe(1);
    expect(check(p.stdout, 'redis')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('cannot reach Redis'), fix: expect.stringContaining('REDIS_URL') });
    expect(check(p.stdout, 'slack')).toMatchObject({ status: 'FAIL', detail: 'auth.test refused the bot token: invalid_auth', fix: expect.stringContaining('SLACK_BOT_TOKEN') });
  });

  it('names a configuration error and exits 1', async () => {
    const p = bots.run(['doctor'], { SLACK_APP_TOKEN: 'xapp-1-x', METIS_ACCESS_TOKEN: 't' });
    expect(await p.exit).toBe(1);
    expect(check(p.stdout, 'configuration')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('SLACK_BOT_TOKEN'), fix: expect.any(String) });
  });
});
