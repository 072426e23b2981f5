/**
 * The `metis-bot` command as an operator runs it: a bad configuration stops
 * it with one clear line; a good one runs until SIGTERM and exits 0; listener
 * and worker can run as separate processes against one Redis.
 */
import { describe, expect, it } from 'vitest';
import { APP_TOKEN, BOT_USER_ID } from '../fakes/slack.ts';
import { botEnv, botProcesses, started } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const bots = botProcesses();

describe('metis-bot auth, as a new operator would run it', () => {
  const key = 'ab'.repeat(32);
  it('says where Redis was looked for, in one line, when it cannot be reached', async () => {
    const p = bots.run(['auth', 'status'], { TOKEN_ENCRYPTION_KEY: key, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await p.exit).toBe(1);
    expect(p.stderr).toEqual([expect.stringMatching(/^metis-bot: cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): ECONNREFUSED/)]);
  });

  it('auth login without a terminal says it needs one, and how to do without', async () => {
    const p = bots.run(['auth', 'login'], { TOKEN_ENCRYPTION_KEY: key, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await p.exit).toBe(2);
    expect(p.stderr.join('\n')).toMatch(/auth login needs a terminal.*auth import FILE/);
  });

  it('still reads a renamed variable under its old name, and logs the name to use', async () => {
    const p = bots.run(['auth', 'status'], { TOKEN_ENCRYPTION_KEY: key, REDIS_URL: 'redis://127.0.0.1:1', METIS_COLD_START_TIMEOUT: '30m' });
    expect(await p.exit).toBe(1); // past the configuration: Redis is what stops it
    const warning = p.stdout.map((l) => JSON.parse(l) as { level: number; variable?: string; use?: string; msg: string }).find((l) => l.variable);
    expect(warning).toMatchObject({ level: 40, variable: 'METIS_COLD_START_TIMEOUT', use: 'METIS_COLD_START_TIMEOUT_SECONDS' });
    expect(warning?.msg).toContain('rename it to METIS_COLD_START_TIMEOUT_SECONDS');
  });

  it('reports every configuration problem at once, and placeholders by name', async () => {
    const p = bots.run(['start'], { SLACK_BOT_TOKEN: 'xoxb-...', SLACK_APP_TOKEN: 'xapp-...', METIS_ACCESS_TOKEN: 't', PORT: 'eighty' });
    expect(await p.exit).toBe(2);
    expect(p.stderr.map((l) => l.replace(/^metis-bot: configuration error: (\w+):.*/, '$1'))).toEqual(['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'PORT']);
  });
});

describe('metis-bot start', () => {
  it('stops with one line naming the variable when the configuration is wrong', async () => {
    const p = bots.run(['start'], { SLACK_APP_TOKEN: APP_TOKEN, METIS_ACCESS_TOKEN: 't' });
    expect(await p.exit).toBe(2);
    expect(p.stderr).toHaveLength(1);
    expect(p.stderr[0]).toMatch(/^metis-bot: configuration error: SLACK_BOT_TOKEN: is required.*example: SLACK_BOT_TOKEN=xoxb-/);
  });

  it('names REDIS_URL when Redis cannot be reached, without an ioredis stack', async () => {
    const p = bots.run(['start'], { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: APP_TOKEN, METIS_ACCESS_TOKEN: 't', REDIS_URL: 'redis://127.0.0.1:1' });
    // It keeps trying for a while (Redis may be starting beside it), saying so in lines that name the setting.
    const first = await waitFor(() => p.stdout.find((l) => l.includes('Redis connection error')), 'a Redis line', 15_000);
    expect(first).toContain('(REDIS_URL)');
    expect(first).toContain('ECONNREFUSED');
    expect(p.stderr.join('\n')).not.toMatch(/\[ioredis\]| {4}at /);
  });

  it('rejects an unknown role', async () => {
    const p = bots.run(['start', '--role', 'boss'], {});
    expect(await p.exit).toBe(2);
    expect(p.stderr.join('\n')).toMatch(/--role must be all, listener or worker/);
  });

  it('runs as separate listener and worker processes, answers, and exits 0 on SIGTERM', async () => {
    const { slack, gateway } = await bots.fakes();
    const env = botEnv(slack, gateway, { SHUTDOWN_GRACE_SECONDS: '5' });
    const listener = bots.run(['start', '--role', 'listener'], env);
    const worker = bots.run(['start', '--role', 'worker'], env);
    await started(listener);
    await started(worker);
    await slack.waitForSocket();

    const q = slack.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> across processes?` });
    await slack.sendSocketEvent(slack.eventFor(q, 'app_mention'));
    const answer = await waitFor(
      () => slack.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer'),
      'the answer',
      15_000,
    );
    expect(answer.text).toContain('across processes?');

    const health = JSON.parse(worker.stdout.find((l) => l.includes('metis-bot is running')) as string) as { port: number };
    expect((await fetch(`http://127.0.0.1:${health.port}/healthz`)).status).toBe(200);

    listener.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await listener.exit).toBe(0);
    expect(await worker.exit).toBe(0);
  });
});
