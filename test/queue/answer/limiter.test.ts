/** The gate's limiter: never more than its places at once, everyone served, in order of arrival. */
import { describe, expect, it } from 'vitest';
import { limiter } from '../../../src/queue/answer/processor.ts';

describe('the gate limiter', () => {
  it('runs at most its places at once, serves every caller in order, and frees a place when one fails', async () => {
    const gated = limiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      gated(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        if (i === 4) throw new Error('a failing gate');
        return i;
      }),
    );
    const settled = Promise.allSettled(tasks); // observed from the start: task 4's failure is expected
    // Release the running ones as they start, until all ten have run.
    while (started.length < 10 || releases.length > 0) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    const results = await settled;
    expect(most).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    expect(results[4]?.status).toBe('rejected');
  });
});
