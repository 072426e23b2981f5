/**
 * `npm run soak`: 1,000+ questions over a few minutes with ~10% faults,
 * worker kills and a Redis restart; prints a table and exits non-zero when a
 * "must be 0" column is not. `npm run soak -- --quick` runs a short one.
 */
import { MUST_BE_ZERO, runSoak, soakTable } from './run-soak.ts';

const quick = process.argv.includes('--quick');
const result = await runSoak({
  requests: quick ? 150 : 1200,
  ratePerSecond: quick ? 30 : 8,
  faultRate: 0.1,
  processes: true,
  workers: 3,
  killEverySeconds: quick ? 4 : 20,
  restartRedisAt: 0.5,
  settleTimeoutMs: 180_000,
  log: (line) => console.error(`soak: ${line}`),
});
console.log(soakTable(result));
const broken = MUST_BE_ZERO.filter((k) => result[k] !== 0);
if (broken.length) {
  console.error(`soak FAILED: ${broken.join(', ')} not zero`);
  process.exit(1);
}
console.log('soak passed: every question got exactly one answer or one clear error');
process.exit(0);
