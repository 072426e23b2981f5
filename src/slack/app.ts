/**
 * The Slack side of the listener process: a Bolt app in Socket Mode (when
 * SLACK_APP_TOKEN is set) or HTTP mode (POST /slack/events, signed), which
 * only acknowledges, validates and enqueues.
 */
import type { Server } from 'node:http';
import { App, type CustomRoute, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { type HealthCheck, healthResponse } from '../http/health-server.ts';
import { registerListeners } from './listeners/index.ts';
import type { ListenerDeps } from './listeners/types.ts';
import { AckAfterHandling } from './ack-after-handling.ts';
import { slackLogger } from '../reply/web-client.ts';
import { proxyAwareDispatcher } from '../http/proxy.ts';

export interface SlackListener {
  /** The HTTP server Bolt runs in HTTP mode (serves /slack/events and /healthz). */
  httpServer?: Server;
  stop(): Promise<void>;
}

export async function startSlackListener(opts: {
  config: Config;
  logger: Logger;
  deps: ListenerDeps;
  health: HealthCheck;
}): Promise<SlackListener> {
  const { config, logger } = opts;
  const clientOptions = { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 2 } };
  const boltLogger = slackLogger(logger.child({ component: 'bolt' }));

  const healthRoute: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      void healthResponse(opts.health).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
    },
  };

  const app = config.slack.appToken
    ? new App({
        token: config.slack.botToken,
        receiver: new AckAfterHandling(
          new SocketModeReceiver({
            appToken: config.slack.appToken,
            // The websocket follows HTTPS_PROXY / NO_PROXY too (Socket Mode builds a direct agent otherwise).
            dispatcher: proxyAwareDispatcher(),
            logger: boltLogger,
            installerOptions: { clientOptions },
          }),
        ),
        clientOptions,
        logger: boltLogger,
        deferInitialization: true,
      })
    : new App({
        token: config.slack.botToken,
        // Answer Slack only after the request is queued, so a failed enqueue is retried by Slack.
        receiver: new AckAfterHandling(
          new HTTPReceiver({
            signingSecret: config.slack.signingSecret as string,
            processBeforeResponse: true,
            customRoutes: [healthRoute],
            logger: boltLogger,
          }),
        ),
        clientOptions,
        logger: boltLogger,
        deferInitialization: true,
      });

  registerListeners(app, opts.deps);
  app.error(async (err) => {
    logger.error({ err: { name: err.name, message: err.message, code: (err as { code?: string }).code } }, 'Slack listener error');
    throw err; // HTTP mode answers non-2xx so Slack redelivers
  });

  // init() runs auth.test and fails cleanly on a bad bot token or an unreachable Slack.
  await app.init();
  const started = config.slack.appToken ? await app.start() : await app.start(config.port);
  const httpServer = config.slack.appToken ? undefined : (started as Server);
  logger.info({ mode: config.slack.appToken ? 'socket' : 'http' }, 'Slack listener started');
  return {
    httpServer,
    stop: async () => {
      await app.stop();
    },
  };
}
