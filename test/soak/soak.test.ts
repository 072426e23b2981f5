/**
 * The short soak, inside `npm test`: 100 questions with ~10% random faults,
 * against the real service in-process. `npm run soak` runs the long one with
 * worker kills and a Redis restart.
 */
import { expect, it } from 'vitest';
import { MUST_BE_ZERO, runSoak, soakTable } from './run-soak.ts';

it('100 questions with random faults: exactly one answer or one clear error each', async () => {
  const result = await runSoak({ requests: 100, ratePerSecond: 50, faultRate: 0.1, processes: false, workers: 0, settleTimeoutMs: 60_000 });
  const table = soakTable(result);
  for (const column of MUST_BE_ZERO) expect(result[column], `${column}\n${table}`).toBe(0);
  expect(result.answered + result.clearErrors).toBe(100);
}, 120_000);
