import { describe, expect, it } from 'vitest';
import { markdownMessage } from '../src/reply/message-builders.ts';
import { inertEcho, inertMarkdown, inertMrkdwn } from '../src/inert-text.ts';

const J = '\u2060';
/** Anything Slack would read as a broadcast, ping, mention or link token. */
const LIVE_TOKEN = /<(?:[@!#]|[a-z][a-z0-9+.-]*:)|@(?:channel|here|everyone)\b/i;

describe('inertMarkdown', () => {
  it.each([
    ['<!channel> look', `@${J}channel look`],
    ['<!here>', `@${J}here`],
    ['<!here|here>', `@${J}here`],
    ['<!everyone>', `@${J}everyone`],
    ['<!subteam^S0TEAM|@oncall> please', '@oncall please'],
    ['<!subteam^S0TEAM>', '@group'],
    ['ping <@U0BOSS>', 'ping @U0BOSS'],
    ['ping <@U0BOSS|boss>', 'ping @boss'],
    ['<#C0GEN|general>', '#general'],
    ['see <https://evil.example/x|the docs>', 'see the docs (https://evil.example/x)'],
    ['<https://example.org>', 'https://example.org'],
    ['<mailto:a@b.org|a@b.org>', 'a@b.org'],
    ['<!date^1700000000^{date}|Nov 14>', 'Nov 14'],
    ['plain @channel and @here', `plain @${J}channel and @${J}here`],
  ])('%s', (input, shown) => {
    expect(inertMarkdown(input)).toBe(shown);
  });

  it('leaves code and comparisons that are no Slack token alone', () => {
    const code = 'if (a < b && c > d) { return <div>x</div>; } // List<T>';
    expect(inertMarkdown(code)).toBe(code);
  });

  it('does not let pieces re-form a token', () => {
    for (const input of ['<<@U0BOSS>>', '<<!channel>>', '<@U0X|<!here>>', '<https://x.example|<@U0BOSS>>', '&lt;!channel&gt;', '<@U0BOSS', '<https://evil.example']) {
      expect(inertMarkdown(input), input).not.toMatch(LIVE_TOKEN);
      expect(inertMarkdown(input).replaceAll('&lt;', '<'), input).not.toMatch(LIVE_TOKEN);
    }
  });

  it('keeps the bot\'s own mention of a verified user live, and only that', () => {
    expect(inertMarkdown('Cancelled by <@U0HUMAN>, not <@U0BOSS> or <!channel>', ['U0HUMAN'])).toBe(`Cancelled by <@U0HUMAN>, not @U0BOSS or @${J}channel`);
    expect(inertMarkdown('<@U0HUMAN|x>', ['U0HUMAN'])).toBe('@x');
  });

  it('is linear: a megabyte of unclosed `<@UA|` takes one pass', () => {
    const run = '<@UA|'.repeat(200_000);
    const started = performance.now();
    const out = inertMarkdown(run);
    // A pass per "<" would be 200,000 scans of up to a megabyte each: many minutes. One pass is well under a second.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(out).not.toMatch(LIVE_TOKEN);
    expect(inertMrkdwn(run)).not.toMatch(LIVE_TOKEN);
    expect(inertEcho(run)).not.toMatch(LIVE_TOKEN);
  });
});

describe('inertMrkdwn and inertEcho', () => {
  it('escapes what mrkdwn would parse, keeping live only the given users', () => {
    expect(inertMrkdwn('a <!channel> & <@U1> <@U0HUMAN>', ['U0HUMAN'])).toBe('a &lt;!channel&gt; &amp; &lt;@U1&gt; <@U0HUMAN>');
  });
  it('shows an echoed value readably in any surface', () => {
    expect(inertEcho('<!channel>')).toBe(`@${J}channel`);
    expect(inertEcho('<foo>')).toBe('‹foo›');
    expect(inertEcho('llama-3.3-70b')).toBe('llama-3.3-70b');
  });
});

describe('markdownMessage', () => {
  it('makes the block and the notification text inert', () => {
    const m = markdownMessage('**Hi** <!channel>, ask <@U0BOSS|boss> at <https://evil.example|docs>');
    const block = m.blocks[0] as { text: string };
    expect(block.text).not.toMatch(LIVE_TOKEN);
    expect(m.text).not.toMatch(LIVE_TOKEN);
    expect(block.text).toBe(`**Hi** @${J}channel, ask @boss at docs (https://evil.example)`);
  });
});
