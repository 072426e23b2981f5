/**
 * The Slack side of the listener process: a Bolt app in Socket Mode (when
 * SLACK_APP_TOKEN is set) or HTTP mode (POST /slack/events, signed), which
 * only acknowledges, validates and enqueues.
 */
import type { Server } from 'node:http';
import { App, type CustomRoute, SocketModeReceiver } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { handleOpsRequest, OPS_PATHS, type OpsEndpoints } from '../http/health-server.ts';
import { countingSlackFetch } from '../metrics/instrument.ts';
import { registerListeners } from './listeners/index.ts';
import type { ListenerDeps } from './listeners/types.ts';
import { AckAfterHandling } from './ack-after-handling.ts';
import { SlackHttpIntake } from './http-intake.ts';
import { SeenSignatures } from './request-signature.ts';
import { slackLogger } from '../reply/web-client.ts';
import { proxyAwareDispatcher } from '../http/proxy.ts';

export interface SlackListener {
  /** The HTTP server Bolt runs in HTTP mode (serves /slack/events and the ops endpoints). */
  httpServer?: Server;
  /** Socket Mode: whether the websocket to Slack is open now (undefined in HTTP mode). */
  socketConnected?: () => boolean;
  stop(): Promise<void>;
}

export async function startSlackListener(opts: {
  config: Config;
  logger: Logger;
  deps: ListenerDeps;
  ops: OpsEndpoints;
  /** Where HTTP mode records the signatures it has seen, fleet-wide. */
  redis: Redis;
  /** Who the bot is, as the process read it at start: Bolt is told rather than asking Slack itself. */
  identity: { userId: string; botId?: string };
}): Promise<SlackListener> {
  const { config, logger } = opts;
  // For the Socket Mode connection (apps.connections.open, with the app token); the listeners' Web API calls go
  // through the process's one client (deps.slack), and Bolt's own client makes none.
  const clientOptions = { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 2 }, fetch: countingSlackFetch(globalThis.fetch) };
  // Bolt would otherwise call auth.test at start (and, not knowing the bot id, on events) through a client of its own.
  const botIdentity = { botUserId: opts.identity.userId, botId: opts.identity.botId, tokenVerificationEnabled: false };
  const boltLogger = slackLogger(logger.child({ component: 'bolt' }));

  const opsRoutes: CustomRoute[] = OPS_PATHS.map((path) => ({
    path,
    method: ['GET'],
    handler: (req, res) => void handleOpsRequest(opts.ops, req, res),
  }));
  const socketReceiver = config.slack.appToken
    ? new SocketModeReceiver({
        appToken: config.slack.appToken,
        // The websocket follows HTTPS_PROXY / NO_PROXY too (Socket Mode builds a direct agent otherwise).
        dispatcher: proxyAwareDispatcher(),
        logger: boltLogger,
        installerOptions: { clientOptions },
      })
    : undefined;
  // Up from Slack's hello until the websocket closes; the client reconnects on its own.
  let socketUp = false;
  socketReceiver?.client.on('connected', () => {
    socketUp = true;
  });
  socketReceiver?.client.on('close', () => {
    socketUp = false;
  });

  const app = socketReceiver
    ? new App({
        token: config.slack.botToken,
        receiver: new AckAfterHandling(socketReceiver),
        ...botIdentity,
        clientOptions,
        logger: boltLogger,
        // Bolt's conversation store (context kept per conversation in memory) is never read here: a middleware less per event.
        convoStore: false,
      })
    : new App({
        token: config.slack.botToken,
        // Answer Slack only after the request is queued, so a failed enqueue is retried by Slack.
        receiver: new AckAfterHandling(
          new SlackHttpIntake({
            signingSecret: config.slack.signingSecret as string,
            seen: new SeenSignatures(opts.redis, config.queue.prefix),
            customRoutes: opsRoutes,
            logger,
            boltLogger,
          }),
        ),
        ...botIdentity,
        clientOptions,
        logger: boltLogger,
        // Bolt's conversation store (context kept per conversation in memory) is never read here: a middleware less per event.
        convoStore: false,
      });

  registerListeners(app, opts.deps);
  app.error(async (err) => {
    logger.error({ err }, 'Slack listener error');
    throw err; // HTTP mode answers non-2xx so Slack redelivers
  });

  const started = config.slack.appToken ? await app.start() : await app.start(config.port);
  const httpServer = config.slack.appToken ? undefined : (started as Server);
  logger.info({ mode: config.slack.appToken ? 'socket' : 'http' }, 'Slack listener started');
  return {
    httpServer,
    socketConnected: socketReceiver ? () => socketUp : undefined,
    stop: async () => {
      await app.stop();
    },
  };
}
