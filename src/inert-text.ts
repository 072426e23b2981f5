/**
 * Text the bot did not write itself (the model's answers, a person's `-m`
 * value, a button's value, names from the gateway) must not act in Slack:
 * no `<!channel>`/`<!here>`/`<!everyone>` broadcast, no `<!subteam^…>` or
 * `<@U…>` ping, no `<url|label>` link whose label hides where it goes.
 * Each such token becomes readable plain text (`@channel`, `@ada`,
 * `label (url)`), and anything that could still start a token is broken with
 * an invisible word joiner. The bot's own mentions (a verified user id it
 * names on purpose) are passed as `liveUsers` and left live.
 *
 * Every function here is linear in the text: a 100 kB run of unclosed `<@UA|`
 * costs one pass, not one pass per `<`.
 */

/** U+2060 WORD JOINER: invisible, and no Slack token can start across it. */
const JOINER = '\u2060';
const USER_ID = /^[UW][A-Z0-9]+$/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** What could open a Slack token: `<` or its entities, before `@`, `!`, `#` or a URL scheme. */
const TOKEN_OPENER = /(<|&lt;|&#0*60;|&#x0*3c;)(?=[@!#]|[a-z][a-z0-9+.-]*:)/gi;
/** `@channel` as bare text is only a broadcast if Slack is asked to link names; we never ask, and this makes sure. */
const BARE_BROADCAST = /@(channel|here|everyone)\b/gi;

/** One `<…>` token's inner text as readable, inert text; undefined if it is no Slack token (e.g. `<div>`). */
function tokenAsText(inner: string): string | undefined {
  if (inner === '' || /^\s/.test(inner)) return undefined;
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : inner.slice(bar + 1);
  const named = (name: string) => `@${name.replace(/^@+/, '')}`;
  switch (target[0]) {
    case '@':
      return named(label || target.slice(1));
    case '#':
      return `#${label || target.slice(1)}`;
    case '!': {
      const special = target.slice(1);
      if (special.startsWith('subteam^')) return label ? named(label) : '@group';
      if (special.startsWith('date^')) return label ?? '';
      return named(special === 'here' || special === 'channel' || special === 'everyone' ? special : (label ?? special));
    }
  }
  if (URL_SCHEME.test(target) || label !== undefined) {
    const shown = target.startsWith('mailto:') ? target.slice('mailto:'.length) : target;
    return !label || label === shown || label === target ? shown : `${label} (${shown})`;
  }
  return undefined;
}

/** Breaks whatever in plain text could still open a token or broadcast. */
function guard(text: string): string {
  return text.replace(TOKEN_OPENER, `$1${JOINER}`).replace(BARE_BROADCAST, `@${JOINER}$1`);
}

/**
 * Markdown (for a `markdown` block) with every Slack token made plain text.
 * `liveUsers`: user ids the bot itself mentions on purpose; their bare
 * `<@U…>` stays a live mention.
 */
export function inertMarkdown(text: string, liveUsers: readonly string[] = []): string {
  const out: string[] = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('<', i);
    if (open === -1) {
      plain += text.slice(i);
      break;
    }
    plain += text.slice(i, open);
    // A token ends at the next '>'; another '<' first means this one opens nothing. Each character is
    // looked at once here and once when copied: linear.
    let end = open + 1;
    while (end < text.length && text[end] !== '>' && text[end] !== '<') end++;
    if (text[end] !== '>') {
      plain += text.slice(open, end);
      i = end;
      continue;
    }
    const inner = text.slice(open + 1, end);
    const id = inner.slice(1);
    if (inner[0] === '@' && liveUsers.includes(id) && USER_ID.test(id)) {
      out.push(guard(plain), `<@${id}>`);
      plain = '';
    } else {
      plain += tokenAsText(inner) ?? text.slice(open, end + 1);
    }
    i = end + 1;
  }
  out.push(guard(plain));
  return out.join('');
}

/**
 * Text for a mrkdwn or notification field: Slack's own escaping (`&`, `<`,
 * `>`), so it shows literally and nothing in it is a token, except the bare
 * mentions of `liveUsers`.
 */
export function inertMrkdwn(text: string, liveUsers: readonly string[] = []): string {
  let escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(BARE_BROADCAST, `@${JOINER}$1`);
  for (const id of liveUsers) if (USER_ID.test(id)) escaped = escaped.replaceAll(`&lt;@${id}&gt;`, `<@${id}>`);
  return escaped;
}

/**
 * A short value from a person, a button or the gateway (a model name, an
 * option) echoed into any message, markdown or mrkdwn: tokens as plain text,
 * angle brackets as look-alikes, so it reads the same and acts nowhere.
 */
export function inertEcho(value: string): string {
  return inertMarkdown(value).replace(/</g, '‹').replace(/>/g, '›');
}
