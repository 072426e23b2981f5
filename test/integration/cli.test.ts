/**
 * The `metis-bot` command as an operator runs it: a bad configuration stops
 * it with one clear line; a good one runs until SIGTERM and exits 0; listener
 * and worker can run as separate processes against one Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';
import { APP_TOKEN, BOT_USER_ID, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { type BotProcess, botEnv, runBot as run, started, stopAll } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const procs: BotProcess[] = [];
let slack: FakeSlack | undefined;
let gateway: FakeGateway | undefined;

afterEach(async () => {
  await stopAll(procs);
  await slack?.close();
  await gateway?.close();
  slack = undefined;
  gateway = undefined;
});

describe('metis-bot start', () => {
  it('stops with one line naming the variable when the configuration is wrong', async () => {
    const p = run(['start'], { SLACK_APP_TOKEN: APP_TOKEN, METIS_ACCESS_TOKEN: 't' });
    procs.push(p);
    expect(await p.exit).toBe(2);
    expect(p.stderr).toHaveLength(1);
    expect(p.stderr[0]).toMatch(/^metis-bot: configuration error: SLACK_BOT_TOKEN: is required.*example: SLACK_BOT_TOKEN=xoxb-/);
  });

  it('rejects an unknown role', async () => {
    const p = run(['start', '--role', 'boss'], {});
    procs.push(p);
    expect(await p.exit).toBe(2);
    expect(p.stderr.join('\n')).toMatch(/--role must be all, listener or worker/);
  });

  it('runs as separate listener and worker processes, answers, and exits 0 on SIGTERM', async () => {
    slack = await startFakeSlack();
    gateway = await startFakeGateway({ validTokens: ['valid-token'] });
    const env = botEnv(slack, gateway, { SHUTDOWN_GRACE_SECONDS: '5' });
    const listener = run(['start', '--role', 'listener'], env);
    const worker = run(['start', '--role', 'worker'], env);
    procs.push(listener, worker);
    await started(listener);
    await started(worker);
    await slack.waitForSocket();

    const q = slack.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> across processes?` });
    await slack.sendSocketEvent(slack.eventFor(q, 'app_mention'));
    const s = slack;
    const answer = await waitFor(
      () => s.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer'),
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
