import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openFence, splitMessage } from '../../src/conversation/split-message.ts';

const fenceCount = (t: string) => t.split('\n').filter((l) => /^\s{0,3}(```|~~~)/.test(l)).length;

describe('splitMessage', () => {
  it('keeps a short answer whole', () => {
    expect(splitMessage('hello', 100)).toEqual([{ text: 'hello', body: 'hello' }]);
  });

  it('cuts at a paragraph break when there is one', () => {
    const text = `${'a'.repeat(60)}\n\n${'b'.repeat(60)}`;
    const pieces = splitMessage(text, 100);
    expect(pieces.map((p) => p.text)).toEqual([`${'a'.repeat(60)}\n\n`, 'b'.repeat(60)]);
  });

  it('closes a code block at the cut and reopens it with its language', () => {
    const code = Array.from({ length: 40 }, (_, i) => `print(${i})`).join('\n');
    const text = `Here:\n\`\`\`python\n${code}\n\`\`\`\nDone.`;
    const pieces = splitMessage(text, 120);
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) {
      expect(p.text.length).toBeLessThanOrEqual(120);
      expect(fenceCount(p.text) % 2).toBe(0);
    }
    expect(pieces[1]?.text.startsWith('```python\n')).toBe(true);
    expect(pieces.map((p) => p.body).join('')).toBe(text);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(100);
    for (const p of splitMessage(text, 51)) expect(p.text).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
  });

  it('property: any text splits into pieces within the limit, balanced fences, losing nothing', () => {
    const line = fc.oneof(
      fc.constantFrom('```', '```ts', '~~~', '', '    indented', '- item'),
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.integer({ min: 40, max: 400 }), (lines, limit) => {
        const text = lines.join('\n');
        const pieces = splitMessage(text, limit);
        expect(pieces.map((p) => p.body).join('')).toBe(text);
        for (const p of pieces) {
          expect(p.text.length).toBeLessThanOrEqual(limit);
          // Every piece but the last ends with no fence left open.
          if (p !== pieces[pieces.length - 1]) expect(openFence(p.text)).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
