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
import { type OpsEndpoints, startHealthServer } from './http/health-server.ts';
import type { Logger } from './logger.ts';
import { Closers } from './roles/closers.ts';
import { startAnswerThread } from './roles/answer-thread.ts';
import { startListenerRole } from './roles/listener.ts';
import { buildShared, type Role } from './roles/shared.ts';
import { startWorkerRole } from './roles/worker.ts';
import { logProcessStats } from './stats.ts';

export type { Role };

export interface RunningService {
  /** The port /healthz (and, in HTTP mode, /slack/events) listens on; 0 without one. */
  port: number;
  /** What /readyz, /healthz and /metrics read. */
  ops: OpsEndpoints;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  role: Role;
  logger: Logger;
  /** What times the thread status's refreshes and the per-person limits' windows (a test moves it on, or holds it still). */
  clock?: Clock;
  /** `all` only: answer in a thread of its own (see roles/answer-thread.ts), as the CLI runs it. */
  answerThread?: boolean;
  /** false: no server for the operator's endpoints (the answer thread: the main thread serves them). */
  opsServer?: boolean;
}

export async function startService(config: Config, opts: ServiceOptions): Promise<RunningService> {
  const { logger, role } = opts;
  const threaded = role === 'all' && opts.answerThread === true;
  const closers = new Closers(logger);
  try {
    const shared = await buildShared(config, threaded ? 'listener' : role, logger, closers, opts.clock);
    if (threaded) await startAnswerThread(config, shared, logger, closers);
    else if (role !== 'listener') await startWorkerRole(config, shared, logger, closers, opts.clock);
    const listener = role !== 'worker' ? await startListenerRole(config, shared, logger, closers) : undefined;

    // In HTTP mode the Slack receiver's server serves the operator's endpoints too.
    let server = listener?.httpServer;
    if (!server && opts.opsServer !== false) {
      const opsServer = await startHealthServer(config.port, shared.ops);
      closers.add('health-server', () => new Promise((r) => opsServer.close(() => r(undefined))));
      server = opsServer;
    }
    const port = server ? (server.address() as AddressInfo).port : 0;
    if (config.statsIntervalMs > 0) {
      const stopStats = logProcessStats(logger, config.statsIntervalMs);
      closers.add('stats', async () => stopStats());
    }
    logger.info({ role, port, ...(threaded ? { answerThread: true } : {}) }, 'metis-bot is running');
    return { port, ops: shared.ops, stop: () => closers.closeAll() };
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
}
