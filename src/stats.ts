/**
 * The numbers each process logs every METIS_STATS_INTERVAL_SECONDS: memory,
 * event-loop lag, and (in a listener) how long Slack waited for each ack.
 */
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import type { Logger } from './logger.ts';

/** Time from receiving a Slack event to acknowledging it, in microseconds. */
export const ackTimes: RecordableHistogram = createHistogram();

export function recordAck(startedNs: bigint): void {
  ackTimes.record(Math.max(1, Number((process.hrtime.bigint() - startedNs) / 1000n)));
}

export function logProcessStats(logger: Logger, intervalMs: number): () => void {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    logger.info(
      {
        stats: {
          rssMb: Math.round(mem.rss / 1e6),
          heapUsedMb: Math.round(mem.heapUsed / 1e6),
          loopLagP99Ms: Math.round(lag.percentile(99) / 1e6),
          loopLagMaxMs: Math.round(lag.max / 1e6),
          ...(ackTimes.count > 0
            ? { acks: ackTimes.count, ackP50Ms: ackTimes.percentile(50) / 1000, ackP99Ms: ackTimes.percentile(99) / 1000, ackMaxMs: ackTimes.max / 1000 }
            : {}),
        },
      },
      'process stats',
    );
    lag.reset();
    ackTimes.reset();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    lag.disable();
  };
}
