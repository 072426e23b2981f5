/**
 * The once-a-second process stats: memory, event-loop lag, garbage-collection
 * pauses and ack times, as an operator reads them from the log.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isMajorGc, logProcessStats, recordAck } from '../src/stats.ts';
import { capturedLogger } from './helpers/captured-logger.ts';
import { ManualClock } from './helpers/manual-clock.ts';
import { sleep } from './helpers/wait.ts';

/** Resolves once a full garbage collection has been reported to observers (the product's was registered first, so it has it too). */
function majorGcObserved(): Promise<void> {
  return new Promise((resolve) => {
    const observer = new PerformanceObserver((list) => {
      if (!list.getEntries().some(isMajorGc)) return;
      observer.disconnect();
      resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
  });
}

describe('process stats', () => {
  it('reports a blocked event loop, a full garbage collection and the ack times of the interval', async () => {
    const { logger, entries } = capturedLogger('info');
    // The interval ends when the test says so: however slow the machine, everything below falls in the one interval.
    const clock = new ManualClock();
    const stop = logProcessStats(logger, 400, clock);
    await sleep(50); // the lag monitor's timer starts on the next turn of the loop
    recordAck(process.hrtime.bigint() - 5_000_000n); // an ack that took 5 ms
    // A full garbage collection (gc() made reachable at run time), then the loop blocked for 200 ms.
    const observed = majorGcObserved();
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // busy: nothing else runs meanwhile
    }
    await observed;
    // The lag monitor's 10 ms timer has been due since the loop blocked; a timer set now runs after it.
    await sleep(20);
    clock.advance(400);
    stop();
    const lines = entries.filter((e) => e.msg === 'process stats');
    expect(lines).toHaveLength(1);
    const stats = lines[0]?.stats as Record<string, number>;
    expect(stats.loopLagMaxMs).toBeGreaterThanOrEqual(100);
    expect(stats.ackP99Ms).toBeGreaterThanOrEqual(4);
    expect(stats.majorGcs).toBeGreaterThanOrEqual(1);
    expect(stats.gcPauseMaxMs).toBeGreaterThan(0);
    expect(stats.rssMb).toBeGreaterThan(0);
  });
});
