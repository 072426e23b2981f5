/**
 * Message text is anyone's to write: the scans over it must stay linear, or
 * one 100 kB message stalls the event loop for every question in the process.
 */
import { describe, expect, it } from 'vitest';
import { userIdsIn } from '../../src/conversation/build-messages.ts';
import { parseRequest, stripBotMention } from '../../src/conversation/parse-request.ts';
import { mentionedUserIds, slackToPlainText } from '../../src/conversation/slack-markup.ts';

/** Milliseconds `fn` takes on `text`, the best of three (one slow run on a busy machine is not the regex's fault). */
function msFor(fn: (text: string) => unknown, text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    fn(text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const unclosed = (bytes: number, id = 'UA') => `<@${id}|`.repeat(Math.ceil(bytes / (id.length + 3))).slice(0, bytes);

const scans: [string, (text: string) => unknown][] = [
  ['mentionedUserIds', (t) => mentionedUserIds(t)],
  ['userIdsIn', (t) => userIdsIn({ history: [{ ts: '1.0', user: 'U1', text: t }], prompt: t, triggerUser: 'U1' })],
  ['stripBotMention', (t) => stripBotMention(t, 'UA')],
  ['parseRequest', (t) => parseRequest(`hi ${t}`, 'UA')],
  ['slackToPlainText', (t) => slackToPlainText(t)],
];

describe('scans over message text on hostile input', () => {
  for (const [name, scan] of scans) {
    it(`${name} reads 100 kB of unclosed <@UA| quickly`, () => {
      // Before: about 2 s each (every `<@UA|` scanned to the end of the text, then backtracked).
      expect(msFor(scan, unclosed(100_000))).toBeLessThan(200);
    });
  }

  it('still finds and strips closed mentions, labels included, next to unclosed ones', () => {
    const text = '<@UA|<@U1|ada> and <@U2> <@UA|metis>?';
    expect(mentionedUserIds(text)).toEqual(['U1', 'U2', 'UA']);
    expect(stripBotMention('<@UA> hi <@UA|metis>', 'UA')).toBe('  hi  ');
    expect(parseRequest('<@UA|metis> -m 70b why?', 'UA')).toEqual({ prompt: 'why?', model: '70b' });
  });
});
