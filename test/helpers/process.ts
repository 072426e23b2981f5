/** Runs `metis-bot` as a separate process, as an operator would, capturing its output. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, inject } from 'vitest';
import { type FakeGateway, type FakeGatewayOptions, startFakeGateway } from '../fakes/gateway.ts';
import { APP_TOKEN, BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';

/** The environment a bot process needs to run in Socket Mode against the fakes, with a queue prefix of its own. */
export function botEnv(slack: FakeSlack, gateway: FakeGateway, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: inject('redisUrl'),
    INFERENCE_GATEWAY_URL: gateway.url,
    METIS_ACCESS_TOKEN: 'valid-token',
    QUEUE_PREFIX: `p${randomBytes(4).toString('hex')}`,
    PORT: '0',
    ...extra,
  };
}

/** Waits until a bot process says it is running. */
export async function started(p: BotProcess, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!p.stdout.some((l) => l.includes('metis-bot is running'))) {
    if (Date.now() > until) throw new Error(`a bot process did not start: ${p.stderr.slice(-3).join(' ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface BotProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

export function runBot(args: string[], env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (d) => stdout.push(...String(d).split('\n').filter(Boolean)));
  child.stderr?.on('data', (d) => stderr.push(...String(d).split('\n').filter(Boolean)));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stdout, stderr, exit };
}

export async function stopAll(procs: BotProcess[]): Promise<void> {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exit;
    }
  }
}

/**
 * Bot processes and the fakes they talk to, for the tests of one file:
 * whatever is started through it is stopped after each test.
 */
export function botProcesses() {
  const procs: BotProcess[] = [];
  const fakes: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await stopAll(procs);
    for (const f of fakes.splice(0)) await f.close();
  });
  return {
    /** A fake Slack, and a fake gateway that takes the token bot processes are given (botEnv). */
    async fakes(gatewayOptions: Omit<FakeGatewayOptions, 'validTokens'> = {}): Promise<{ slack: FakeSlack; gateway: FakeGateway }> {
      const slack = await startFakeSlack();
      const gateway = await startFakeGateway({ validTokens: ['valid-token'], ...gatewayOptions });
      fakes.push(slack, gateway);
      return { slack, gateway };
    },
    /** Runs `metis-bot <args>`. */
    run(args: string[], env: Record<string, string>): BotProcess {
      const p = runBot(args, env);
      procs.push(p);
      return p;
    },
  };
}
