/**
 * The sandbox: the real service (the same startService the CLI runs) against
 * the fakes the tests use (Slack, the inference gateway, Globus), or against
 * the real gateway when one is configured, with a web page that plays the
 * Slack workspace. No credentials needed for the fakes.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { startService } from '../src/main.ts';
import { GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, startFakeGlobus } from '../test/fakes/globus.ts';
import { APP_TOKEN, BOT_TOKEN, startFakeSlack } from '../test/fakes/slack.ts';
import { type FakeMetis, SANDBOX_MODELS, startFakeMetis } from './fake-metis.ts';
import { ME, ME_NAME, startWorkspace } from './workspace.ts';

/** The gateway settings a deployer passes through to try the real Metis from the sandbox. */
export const REAL_GATEWAY_SETTINGS = [
  'INFERENCE_GATEWAY_URL',
  'INFERENCE_CLUSTER',
  'METIS_DEFAULT_MODEL',
  'METIS_ACCESS_TOKEN',
  'GLOBUS_AUTH_URL',
  'GLOBUS_CLIENT_ID',
  'GLOBUS_CLIENT_SECRET',
  'GLOBUS_SCOPE',
  'GLOBUS_CLIENT_AUTH',
  'TOKEN_ENCRYPTION_KEY',
] as const;

export interface SandboxOptions {
  redisUrl: string;
  logger: Logger;
  /** Port of the page; 0 picks a free one. */
  port?: number;
  /** Real gateway settings (INFERENCE_GATEWAY_URL and a token); without them, the fake Metis answers. */
  realGateway?: Record<string, string>;
  /** How long the Offline model takes to start once someone waits for it. */
  modelStartMs?: number;
  /** Delay between streamed pieces of a simulated answer. */
  chunkDelayMs?: number;
}

export interface Sandbox {
  /** The page that plays the Slack workspace. */
  url: string;
  mode: 'fake' | 'real';
  stop(): Promise<void>;
}

/** Whether these settings name a real gateway and a way to get a token for it; throws when half set. */
export function wantsRealGateway(settings: Record<string, string | undefined>): boolean {
  if (!settings.INFERENCE_GATEWAY_URL) return false;
  if (settings.METIS_ACCESS_TOKEN || (settings.GLOBUS_CLIENT_ID && settings.GLOBUS_CLIENT_SECRET)) return true;
  throw new Error(
    'INFERENCE_GATEWAY_URL is set, so the sandbox would talk to the real gateway, but it has no token: ' +
      'set METIS_ACCESS_TOKEN (or GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET and TOKEN_ENCRYPTION_KEY), or unset INFERENCE_GATEWAY_URL to use the fake Metis',
  );
}

/** The Cancel button the bot puts on a question that waits for a model. */
const WAITING_NOTE_ACTION = 'cancel_wait';
const WATCH_MS = 500;

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const closers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };
  try {
    // A queue prefix of its own: a Redis kept from an earlier run would take the new run's questions for repeats.
    const prefix = `sandbox-${randomBytes(4).toString('hex')}`;
    const slack = await startFakeSlack();
    closers.push(() => slack.close());
    slack.setUserName(ME, ME_NAME);

    let gatewayEnv: Record<string, string>;
    let metis: FakeMetis | undefined;
    if (opts.realGateway) {
      gatewayEnv = { ...opts.realGateway };
    } else {
      const validTokens: string[] = [];
      metis = await startFakeMetis({ validTokens, startMs: opts.modelStartMs ?? 30_000, chunkDelayMs: opts.chunkDelayMs });
      closers.push(() => metis?.close() ?? Promise.resolve());
      const gateway = metis.gateway;
      const globus = await startFakeGlobus({
        clientId: GLOBUS_CLIENT_ID,
        clientSecret: GLOBUS_CLIENT_SECRET,
        onIssue: (token) => {
          validTokens.push(token);
          gateway.setValidTokens(validTokens);
        },
      });
      closers.push(() => globus.close());
      gatewayEnv = {
        INFERENCE_GATEWAY_URL: gateway.url,
        METIS_DEFAULT_MODEL: SANDBOX_MODELS[0]?.name ?? '',
        GLOBUS_AUTH_URL: globus.url,
        GLOBUS_CLIENT_ID,
        GLOBUS_CLIENT_SECRET,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      };
    }

    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      REDIS_URL: opts.redisUrl,
      QUEUE_PREFIX: prefix,
      PORT: '0',
      LOG_LEVEL: 'info',
      // Edits often enough to watch an answer stream in; a waiting question checks the model's status often.
      METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.5',
      METIS_COLD_START_POLL_SECONDS: '3',
      METIS_MODEL_STATUS_TTL_SECONDS: '5',
      SHUTDOWN_GRACE_SECONDS: '5',
      ...gatewayEnv,
    });
    closers.push(() => forgetQueue(opts.redisUrl, prefix));
    const service = await startService(config, { role: 'all', logger: opts.logger });
    closers.push(() => service.stop());
    await slack.waitForSocket();

    if (metis) {
      // Metis starts the Offline model a while after someone waits for it (the bot's waiting note has a Cancel button).
      const m = metis;
      const watch = setInterval(() => {
        const waiting = slack.messages.some((msg) => msg.bot_id && JSON.stringify(msg.blocks ?? []).includes(`"${WAITING_NOTE_ACTION}"`));
        if (waiting) m.startOfflineModel();
      }, WATCH_MS);
      closers.push(async () => clearInterval(watch));
    }

    const mode = opts.realGateway ? 'real' : 'fake';
    const page = await startWorkspace({ slack, port: opts.port, mode });
    closers.push(() => page.close());
    return { url: page.url, mode, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Removes this run's keys, so a shared Redis does not keep the sandbox's queue around. */
async function forgetQueue(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
