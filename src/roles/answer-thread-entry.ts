/**
 * The answer thread of `--role all` (see answer-thread.ts): the worker role,
 * answering the main thread's questions about it. Started with the main
 * thread's config; it logs on its own, to the same output.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { useProxyFromEnvironment } from '../http/proxy.ts';
import { createLogger } from '../logger.ts';
import { startService } from '../main.ts';
import { registry, setScrapeSources } from '../metrics/registry.ts';
import type { ThreadReply, ThreadRequest, ThreadStarted } from './answer-thread.ts';

/** How much lower than the main thread the answer thread is scheduled (Unix nice: 0 normal, 19 lowest). */
const ANSWER_THREAD_NICENESS = 10;

const port = parentPort;
if (!port) throw new Error('answer-thread-entry.ts runs as a worker thread');
const { config } = workerData as { config: Config };
const logger = createLogger(config.logLevel).child({ thread: 'answers' });
lowerPriority();
// A thread has its own global dispatcher: Globus and the gateway go through the proxy variables here too.
useProxyFromEnvironment();
try {
  const service = await startService(config, { role: 'worker', logger, opsServer: false });
  // What lives in Redis (queue depth, budget, token) is read by the main thread's scrape; here it would count twice.
  setScrapeSources({});
  port.on('message', async (request: ThreadRequest) => {
    const reply: ThreadReply = { id: request.id };
    try {
      if (request.ask === 'ready') {
        // The main thread's /readyz times the check out and reads a thrown error as failing.
        reply.reason = (await service.ops.readiness.find((c) => c.name === request.check)?.check()) ?? undefined;
      } else if (request.ask === 'metrics') {
        reply.metrics = await registry.getMetricsAsJSON();
      } else {
        await service.stop();
      }
    } catch (err) {
      reply.error = String(err);
    }
    port.postMessage(reply);
  });
  port.postMessage({ started: true } satisfies ThreadStarted);
} catch (err) {
  port.postMessage({ started: false, error: (err as Error)?.message ?? String(err) } satisfies ThreadStarted);
}

/**
 * Answers are throughput, acknowledgements are latency: on a busy machine the
 * main thread (Slack's 3 s ack) should get a core first. Linux schedules
 * threads one by one, so this thread alone is made nicer (a thread's id is its
 * own scheduling id there); elsewhere it stays as it is.
 */
function lowerPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, ANSWER_THREAD_NICENESS);
  } catch {
    // Not Linux, or not allowed: the thread runs at the process's priority.
  }
}
