import { describe, expect, it } from 'vitest';
import { Closers } from '../../src/roles/closers.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

describe('Closers', () => {
  it('closes in the reverse of the order the steps were added', async () => {
    const { logger } = capturedLogger('info');
    const closers = new Closers(logger);
    const closed: string[] = [];
    for (const name of ['redis', 'worker', 'listener']) closers.add(name, async () => closed.push(name));
    await closers.closeAll();
    expect(closed).toEqual(['listener', 'worker', 'redis']);
  });

  it('runs every step when one throws, and logs the failure as { err } with the step', async () => {
    const { logger, entries } = capturedLogger('info');
    const closers = new Closers(logger);
    const closed: string[] = [];
    closers.add('redis', async () => closed.push('redis'));
    closers.add('worker', async () => {
      throw new Error('drain failed');
    });
    closers.add('listener', async () => closed.push('listener'));
    await closers.closeAll();
    expect(closed).toEqual(['listener', 'redis']);
    const warning = entries.find((e) => e.msg === 'shutdown step failed; continuing');
    expect(warning).toMatchObject({ step: 'worker', err: { type: 'Error', message: 'drain failed' } });
  });

  it('closes each step once, however often it is asked', async () => {
    const { logger } = capturedLogger('info');
    const closers = new Closers(logger);
    let closes = 0;
    closers.add('redis', async () => {
      closes++;
    });
    await Promise.all([closers.closeAll(), closers.closeAll()]);
    await closers.closeAll();
    expect(closes).toBe(1);
  });
});
