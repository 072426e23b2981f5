/**
 * Words people see in Slack live in one table (src/words.ts, with its files note in src/file-words.ts): read from the
 * source itself, no other module writes a sentence of its own, and the table's
 * entries quote what people wrote only inertly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ErrorDetails, MetisError, userMessageFor } from '../src/errors.ts';
import { WORDS } from '../src/words.ts';

/** Where Slack-bound words are built; the CLI, doctor, config and metrics speak to operators, not in Slack. */
const SLACK_SIDE = ['slack', 'reply', 'team', 'queue', 'models', 'conversation', 'auth', 'gateway', 'errors.ts', 'inert-text.ts'];
/** Sentences not shown in Slack: what `metis-bot auth …` prints on a terminal; the system prompt the model reads. */
const OPERATOR_FILES = new Set(['src/auth/commands.ts', 'src/conversation/build-messages.ts']);

/** A string literal that reads as a sentence to a person: a Slack emoji first, or a capital and a full stop after four words. */
const SENTENCE = /(['"`])(?::[a-z_]+: [^'"`\n]{8,}|_?[A-Z][a-z']*(?: [^'"`\n]+){3,}[.?!]_?)\1/g;
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
/** Lines that talk to the operator's log, not to a person. */
const OPERATOR_LINE = /\blog(?:ger)?\.(?:trace|debug|info|warn|error|fatal)\(|new (?:Metis|Command|Globus|Config)?Error\(|\bdetail:|\bfix:|help:/;

const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && SLACK_SIDE.some((s) => f === s || f.startsWith(`${s}/`)))
  .map((f) => join('src', f));

function sentencesIn(file: string): string[] {
  return withoutComments(readFileSync(file, 'utf8'))
    .split('\n')
    .filter((line) => !OPERATOR_LINE.test(line))
    .flatMap((line) => [...line.matchAll(SENTENCE)].map((m) => m[0]));
}

describe('the words people see', () => {
  it('come from the table: no other Slack-side module writes a sentence of its own', () => {
    const stray = files.filter((f) => f !== 'src/words.ts' && !OPERATOR_FILES.has(f)).flatMap((f) => sentencesIn(f).map((s) => `${f}: ${s}`));
    expect(stray).toEqual([]);
  });

  it('the scan sees sentences where they are (so it can fail): the table itself is full of them', () => {
    expect(sentencesIn('src/words.ts').length).toBeGreaterThan(40);
  });

  it('quote what a person wrote inertly (no mention, broadcast or link can come through)', () => {
    const hostile = '<!channel> <@U0BOSS> <https://evil.example|click>';
    const quoted = [
      WORDS.unknown_subcommand({ sub: hostile }),
      WORDS.unknown_option({ option: hostile }),
      WORDS.unknown_model({ model: hostile, models: [hostile] }),
      WORDS.maintenance({ notice: hostile }),
      WORDS.maintenance_heading({ notice: hostile }),
      WORDS.instructions_here({ text: hostile, by: 'U1' }),
      WORDS.instructions_set({ user: 'U1', text: hostile }),
    ];
    for (const q of quoted) {
      expect(q).not.toContain('<!channel>');
      expect(q).not.toContain('<@U0BOSS>');
      expect(q).not.toContain('<https://');
    }
  });

  it('give every failure its sentence, and anything else the generic one', () => {
    const details: ErrorDetails = { model: 'm' };
    expect(userMessageFor(new MetisError('rate_limited', 'x', details))).toBe(WORDS.rate_limited(details));
    expect(userMessageFor(new Error('boom'))).toBe(WORDS.internal({}));
    for (const [code, say] of Object.entries(WORDS)) {
      const text = (say as (d: Record<string, unknown>) => string | string[])({ model: 'm', user: 'U1', asker: 'U1', sub: 's', fallback: 'f', configured: 'c', detail: 'd', fix: 'f', code: 'c', since: '1 min', mode: 'static', madeOn: 'a', lapsesOn: 'b', age: '1 min', fragment: 'm', status: 'Live', limit: 1, when: 'soon', seconds: 1, chars: 2, usedChars: 1, daysLeft: 1, waitMinutes: 1, downMinutes: 1, text: 't', by: 'U2', question: 'q', max: 5, instructionsMax: 5 });
      expect(String(text).length, code).toBeGreaterThan(3);
      expect(String(text), code).not.toContain('undefined');
    }
  });
});
