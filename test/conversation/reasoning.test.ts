import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { visibleAnswer } from '../../src/conversation/reasoning.ts';

describe('visibleAnswer', () => {
  it('hides a closed <think> block', () => {
    expect(visibleAnswer('<think>\nplan things\n</think>\n\nThe answer.', { final: true })).toEqual({ text: 'The answer.', thinking: false });
  });

  it('hides an unclosed <think> mid-stream and reports thinking', () => {
    expect(visibleAnswer('<think>\nstill going', { final: false })).toEqual({ text: '', thinking: true });
  });

  it('holds back a tag that is still arriving', () => {
    expect(visibleAnswer('Hello <thi', { final: false }).text).toBe('Hello ');
    expect(visibleAnswer('Hello <thi', { final: true }).text).toBe('Hello <thi');
  });

  it('drops reasoning when the model omits the opening tag', () => {
    expect(visibleAnswer('reasoning here</think>Answer', { final: true }).text).toBe('Answer');
  });

  it('leaves ordinary text alone', () => {
    expect(visibleAnswer('a < b and c > d', { final: true }).text).toBe('a < b and c > d');
  });

  it('property: the shown prefix of a stream never contains reasoning, and the final text is exact', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }).filter((s) => !s.includes('<')), fc.integer({ min: 0, max: 200 }), (thoughts, answer, cut) => {
        const clean = thoughts.replace(/[<>]/g, '');
        const raw = `<think>${clean}</think>${answer}`;
        const partial = raw.slice(0, Math.min(cut, raw.length));
        const shown = visibleAnswer(partial, { final: false }).text;
        if (clean.trim().length > 0) expect(shown.includes(clean.trim()) && !answer.includes(clean.trim())).toBe(false);
        expect(answer.replace(/^\s+/, '').startsWith(shown)).toBe(true);
        expect(visibleAnswer(raw, { final: true }).text).toBe(answer.replace(/^\s+/, ''));
      }),
      { numRuns: 300 },
    );
  });
});
