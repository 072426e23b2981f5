/**
 * The numbers each process logs every METIS_STATS_INTERVAL_SECONDS: memory,
 * event-loop lag, garbage-collection pauses (so a lag spike can be told
 * apart from slow code), and (in a listener) how long Slack waited for each
 * ack.
 */
import { constants, createHistogram, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import { type Clock, realClock } from './clock.ts';
import type { Logger } from './logger.ts';
import { ackSeconds } from './metrics/registry.ts';

/** Time from receiving a Slack event to acknowledging it, in microseconds. */
export const ackTimes: RecordableHistogram = createHistogram();

export function recordAck(startedNs: bigint): void {
  ackTimes.record(Math.max(1, Number((process.hrtime.bigint() - startedNs) / 1000n)));
  ackSeconds.observe(Number(process.hrtime.bigint() - startedNs) / 1e9);
}

/** Whether a `gc` performance entry is a full (major) collection. */
export function isMajorGc(entry: PerformanceEntry): boolean {
  return (entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

export function logProcessStats(logger: Logger, intervalMs: number, clock: Clock = realClock): () => void {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const gc = { majorCount: 0, pauseMaxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.pauseMaxMs = Math.max(gc.pauseMaxMs, entry.duration);
      if (isMajorGc(entry)) gc.majorCount++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const stopTimer = clock.every(intervalMs, () => {
    const mem = process.memoryUsage();
    logger.info(
      {
        stats: {
          rssMb: Math.round(mem.rss / 1e6),
          heapUsedMb: Math.round(mem.heapUsed / 1e6),
          loopLagP99Ms: Math.round(lag.percentile(99) / 1e6),
          loopLagMaxMs: Math.round(lag.max / 1e6),
          gcPauseMaxMs: Math.round(gc.pauseMaxMs * 10) / 10,
          majorGcs: gc.majorCount,
          ...(ackTimes.count > 0
            ? { acks: ackTimes.count, ackP50Ms: ackTimes.percentile(50) / 1000, ackP99Ms: ackTimes.percentile(99) / 1000, ackMaxMs: ackTimes.max / 1000 }
            : {}),
        },
      },
      'process stats',
    );
    lag.reset();
    ackTimes.reset();
    gc.majorCount = 0;
    gc.pauseMaxMs = 0;
  });
  return () => {
    stopTimer();
    lag.disable();
    gcObserver.disconnect();
  };
}
