import { describe, expect, it } from 'vitest';
import { mentionedUserIds, slackToPlainText } from '../../src/conversation/slack-markup.ts';

describe('slackToPlainText', () => {
  const names = new Map([['U1', 'Ada'], ['U2', 'Bob']]);

  it('turns mentions into names', () => {
    expect(slackToPlainText('ask <@U1> and <@U2|bob>', names)).toBe('ask @Ada and @Bob');
    expect(slackToPlainText('hi <@U9>', names)).toBe('hi @U9');
  });

  it('turns links, channels and specials into text', () => {
    expect(slackToPlainText('see <https://x.org/a|the docs> or <https://x.org/b>')).toBe('see the docs (https://x.org/a) or https://x.org/b');
    expect(slackToPlainText('in <#C1|general> <!here> <!subteam^S1|@infra>')).toBe('in #general @here @infra');
    expect(slackToPlainText('mail <mailto:a@b.org|a@b.org>')).toBe('mail a@b.org');
  });

  it('unescapes the entities Slack escapes, after converting markup', () => {
    expect(slackToPlainText('if a &lt; b &amp;&amp; c &gt; d')).toBe('if a < b && c > d');
    expect(slackToPlainText('&lt;@U1&gt; stays literal', names)).toBe('<@U1> stays literal');
  });

  it('lists mentioned users', () => {
    expect(mentionedUserIds('<@U1> <@U2|b> <@U1> <#C1>')).toEqual(['U1', 'U2']);
  });
});
