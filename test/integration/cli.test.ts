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

describe('metis-bot start', () => {
  it('stops with one line naming the variable when the configuration is wrong', async () => {
    const p = bots.run(['start'], { SLACK_APP_TOKEN: APP_TOKEN, METIS_ACCESS_TOKEN: 't' });
    expect(await p.exit).toBe(2);
    expect(p.stderr).toHaveLength(1);
    expect(p.stderr[0]).toMatch(/^metis-bot: configuration error: SLACK_BOT_TOKEN: is required.*example: SLACK_BOT_TOKEN=xoxb-/);
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
