/**
 * stablePiece against takePiece: whatever text follows, what a stream sent
 * (made inert) is always the start of the message the whole answer makes
 * (made inert), so a stream never has to take anything back.
 */
import { describe, expect, it } from 'vitest';
import { splitMessage, stablePiece, takePiece } from '../../src/conversation/split-message.ts';
import { inertMarkdown } from '../../src/inert-text.ts';

/** A small deterministic generator (no flaky seeds). */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

const PARTS = ['word', ' ', ' ', '\n', '\n\n', '```python\n', '\n```\n', '<!channel>', '<@U0ADA>', '<https://x.example|a label>', '@here', '&lt;@U1&gt;', '<', '>', 'tok', '😀'];

function answer(rand: () => number, parts: number): string {
  return Array.from({ length: parts }, () => PARTS[Math.floor(rand() * PARTS.length)]).join('');
}

describe('stablePiece', () => {
  it('only ever shows the start of the final message, whatever comes next', () => {
    const rand = random(7);
    for (let round = 0; round < 200; round++) {
      const text = answer(rand, 20 + Math.floor(rand() * 120));
      const limit = 40 + Math.floor(rand() * 200);
      // Walk the answer as a stream would, piece by piece, as it grows.
      let committed = 0;
      let carry: { marker: string; lang: string } | undefined;
      let sent = '';
      for (let end = 1; end <= text.length; end += 1 + Math.floor(rand() * 7)) {
        const piece = stablePiece(text.slice(committed, end), limit, carry, false);
        const inert = inertMarkdown(piece.text);
        const whole = inertMarkdown(takePiece(text.slice(committed), limit, carry).piece.text);
        expect(whole.startsWith(inert), JSON.stringify({ text, limit, end, inert, whole })).toBe(true);
        expect(inert.startsWith(sent)).toBe(true);
        sent = inert;
        if (piece.complete) {
          committed += piece.body?.length ?? 0;
          carry = piece.carry;
          sent = '';
        }
      }
    }
  });

  it('settles into exactly the messages splitMessage makes', () => {
    const text = `Intro.\n\n\`\`\`js\n${'x = 1;\n'.repeat(30)}\`\`\`\n\nDone.`;
    const pieces: string[] = [];
    let rest = text;
    let carry: { marker: string; lang: string } | undefined;
    while (rest.length > 0) {
      const p = stablePiece(rest, 80, carry, true);
      pieces.push(p.text);
      rest = rest.slice(p.body?.length ?? rest.length);
      carry = p.carry;
    }
    expect(pieces).toEqual(splitMessage(text, 80).map((p) => p.text));
  });
});
