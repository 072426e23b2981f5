/**
 * Composes the service by role: what every role shares (Redis, the HTTP pool,
 * the one Slack client, the team's rules), then the worker and/or the Slack
 * listener, then the operator's endpoints. `stop()` shuts down in the reverse
 * order (stop intake, drain workers under a deadline, close queues, close
 * Redis); every step runs even if one before it failed.
 */
import type { Clock } from './clock.ts';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { startHealthServer } from './http/health-server.ts';
import type { Logger } from './logger.ts';
import { Closers } from './roles/closers.ts';
import { startListenerRole } from './roles/listener.ts';
import { buildShared, type Role } from './roles/shared.ts';
import { startWorkerRole } from './roles/worker.ts';
import { logProcessStats } from './stats.ts';

export type { Role };

export interface RunningService {
  /** The port /healthz (and, in HTTP mode, /slack/events) listens on. */
  port: number;
  stop(): Promise<void>;
}

/** `clock`: what times the thread status's refreshes (a test moves it on instead of waiting two minutes). */
export async function startService(config: Config, opts: { role: Role; logger: Logger; clock?: Clock }): Promise<RunningService> {
  const { logger, role } = opts;
  const closers = new Closers(logger);
  try {
    const shared = await buildShared(config, role, logger, closers);
    if (role !== 'listener') await startWorkerRole(config, shared, logger, closers, opts.clock);
    const listener = role !== 'worker' ? await startListenerRole(config, shared, logger, closers) : undefined;

    // In HTTP mode the Slack receiver's server serves the operator's endpoints too.
    let server = listener?.httpServer;
    if (!server) {
      const opsServer = await startHealthServer(config.port, shared.ops);
      closers.add('health-server', () => new Promise((r) => opsServer.close(() => r(undefined))));
      server = opsServer;
    }
    const port = (server.address() as AddressInfo).port;
    if (config.statsIntervalMs > 0) {
      const stopStats = logProcessStats(logger, config.statsIntervalMs);
      closers.add('stats', async () => stopStats());
    }
    logger.info({ role, port }, 'metis-bot is running');
    return { port, stop: () => closers.closeAll() };
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
}
