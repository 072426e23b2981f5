/**
 * The once-a-second process stats: memory, event-loop lag, garbage-collection
 * pauses and ack times, as an operator reads them from the log.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { logProcessStats, recordAck } from '../src/stats.ts';
import { capturedLogger } from './helpers/captured-logger.ts';
import { sleep, waitFor } from './helpers/wait.ts';

describe('process stats', () => {
  it('reports a blocked event loop, a full garbage collection and the ack times of the interval', async () => {
    const { logger, entries } = capturedLogger('info');
    const stop = logProcessStats(logger, 400);
    await sleep(50); // the lag monitor's timer starts on the next turn of the loop
    recordAck(process.hrtime.bigint() - 5_000_000n); // an ack that took 5 ms
    // A full garbage collection (gc() made reachable at run time), then the loop blocked for 200 ms.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // busy: nothing else runs meanwhile
    }
    const line = await waitFor(() => entries.find((e) => e.msg === 'process stats'), 'a stats line', 2000);
    stop();
    const stats = line.stats as Record<string, number>;
    expect(stats.loopLagMaxMs).toBeGreaterThanOrEqual(100);
    expect(stats.ackP99Ms).toBeGreaterThanOrEqual(4);
    expect(stats.majorGcs).toBeGreaterThanOrEqual(1);
    expect(stats.gcPauseMaxMs).toBeGreaterThan(0);
    expect(stats.rssMb).toBeGreaterThan(0);
  });
});
