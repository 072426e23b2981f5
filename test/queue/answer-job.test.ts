import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerJobId } from '../../src/queue/answer-job.ts';

describe('answerJobId', () => {
  it('keeps the id of a real Slack message as it was (jobs queued before an upgrade still dedupe)', () => {
    expect(answerJobId({ teamId: 'T0001', channel: 'C0CHAN', ts: '1700000001.000001' })).toBe('msg-T0001-C0CHAN-1700000001.000001');
  });

  it('gives forged timestamps that differ only in : and _ different ids', () => {
    const a = answerJobId({ teamId: 'T1', channel: 'C1', ts: '1:2' });
    const b = answerJobId({ teamId: 'T1', channel: 'C1', ts: '1_2' });
    expect(a).not.toBe(b);
    expect(a).not.toContain(':');
  });

  it('gives different messages different ids, never with a colon, never a plain integer', () => {
    const part = fc.string({ unit: fc.constantFrom('a', '-', '_', ':'), maxLength: 4 });
    fc.assert(
      fc.property(fc.tuple(part, part, part), fc.tuple(part, part, part), ([t1, c1, s1], [t2, c2, s2]) => {
        const a = answerJobId({ teamId: t1, channel: c1, ts: s1 });
        const b = answerJobId({ teamId: t2, channel: c2, ts: s2 });
        expect(a).not.toContain(':');
        expect(/^\d+$/.test(a)).toBe(false);
        if (t1 !== t2 || c1 !== c2 || s1 !== s2) expect(a).not.toBe(b);
      }),
      { numRuns: 2000 },
    );
  });
});
