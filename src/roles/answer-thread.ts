/**
 * `--role all` answers in a thread of its own. One process, two threads: the
 * main thread receives Slack's events and acknowledges them, the answer
 * thread runs the worker role (the same code as `--role worker`). Answering
 * a busy minute keeps a core busy; in one thread it delayed every ack by as
 * long as the answers kept the event loop (measured: ack p99 113 ms at 200
 * events/s, 309 ms at 500/s). Apart, acks wait only on their own work.
 *
 * The main thread speaks for both: /readyz asks the answer thread for its
 * checks, /metrics adds its counts, and a shutdown drains it after intake
 * stops. The thread ending unasked ends the process (the orchestrator
 * restarts it), as a worker process crashing would.
 */
import { Worker as Thread } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Config } from '../config.ts';
import type { ReadinessCheck } from '../http/health-server.ts';
import type { Logger } from '../logger.ts';
import { registry } from '../metrics/registry.ts';
import type { Closers } from './closers.ts';
import type { Shared } from './shared.ts';

/** What the main thread asks; the thread answers each with the same `id`. */
export type ThreadRequest = { id: number; ask: 'ready'; check: string } | { id: number; ask: 'metrics' } | { id: number; ask: 'stop' };
export type ThreadReply = { id: number; reason?: string; metrics?: MetricObjectWithValues<MetricValue<string>>[]; error?: string };
/** The thread's first message: its worker runs (or could not start). */
export type ThreadStarted = { started: true } | { started: false; error: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The answer thread's readiness checks, asked by name (they live in the thread's own process-wide state). */
const THREAD_CHECKS = ['workers', 'metis_access'];
/** How long the main thread waits for the answer thread to answer a question about itself. */
const ASK_TIMEOUT_MS = 5_000;
/** Metrics of the whole process (CPU, memory, handles): the main thread's own already count both threads. */
const PROCESS_WIDE = /^(process_|nodejs_)/;

export async function startAnswerThread(config: Config, shared: Shared, logger: Logger, closers: Closers): Promise<void> {
  // Compiled, the entry is JavaScript; run from the TypeScript sources (tests), the thread loads it through tsx.
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './answer-thread-entry.ts' : './answer-thread-entry.js', import.meta.url);
  const thread = fromSources
    ? new Thread(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: { config } })
    : new Thread(entry, { workerData: { config } });
  let stopping = false;
  let nextId = 0;
  const pending = new Map<number, (reply: ThreadReply) => void>();
  /** Asks the thread; a thread that does not answer within `timeoutMs` gets an error reply, so no caller hangs. */
  const ask = (request: DistributiveOmit<ThreadRequest, 'id'>, timeoutMs = ASK_TIMEOUT_MS): Promise<ThreadReply> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve({ id, error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      thread.postMessage({ ...request, id });
    });

  // Its first message says whether it started; an error or an exit before that is a failed start too.
  let onError: (err: unknown) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  const first = await new Promise<ThreadStarted>((resolve, reject) => {
    onError = reject;
    onExit = (code) => reject(new Error(`the answer thread ended as it started (exit code ${code})`));
    thread.once('message', resolve);
    thread.once('error', onError);
    thread.once('exit', onExit);
  }).finally(() => {
    // Only these: the worker's own listeners (which keep its message port referenced) must stay.
    thread.off('error', onError);
    thread.off('exit', onExit);
  });
  if (!first.started) {
    await thread.terminate();
    throw new Error(`the answer thread could not start: ${first.error}`);
  }
  thread.on('message', (reply: ThreadReply) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  thread.on('error', (err) => logger.fatal({ err }, 'the answer thread failed'));
  thread.on('exit', (code) => {
    if (stopping) return;
    logger.fatal({ exitCode: code }, 'the answer thread ended; stopping the process so that it is restarted');
    process.exit(1);
  });

  closers.add('answer-thread', async () => {
    stopping = true;
    // Its answers in flight get SHUTDOWN_GRACE_SECONDS to finish (the worker role's own drain), then a little more.
    const stopped = await ask({ ask: 'stop' }, config.shutdownGraceMs + ASK_TIMEOUT_MS);
    if (stopped.error) logger.error({ error: stopped.error }, 'the answer thread did not stop cleanly');
    await thread.terminate();
  });
  // A check the thread could not run counts as failing, with its reason.
  for (const name of THREAD_CHECKS) shared.ops.readiness.push({ name, check: () => ask({ ask: 'ready', check: name }).then((r) => r.error ?? r.reason) } satisfies ReadinessCheck);
  shared.ops.metrics = async () => {
    const reply = await ask({ ask: 'metrics' });
    if (reply.error) throw new Error(`the answer thread's metrics: ${reply.error}`);
    const theirs = reply.metrics ?? [];
    const ours = await registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([ours, theirs.filter((m) => !PROCESS_WIDE.test(m.name))]).metrics();
  };
}
