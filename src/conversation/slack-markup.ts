/**
 * Slack message markup → plain text a model reads naturally.
 * `<@U1>` → `@Name`, `<#C1|general>` → `#general`, `<url|label>` → `label (url)`,
 * `<!here>` → `@here`, and the three HTML entities Slack escapes.
 */

const TOKEN = /<([^<>\s][^<>]*)>/g;

/** The user ids mentioned in a text, to look their names up before converting. */
export function mentionedUserIds(text: string): string[] {
  const ids = new Set<string>();
  // A label stops at `<` (Slack escapes it in text): `[^>]*` would rescan to the end of the text from every
  // unclosed `<@U1|`, quadratic in a message anyone can write.
  for (const m of text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>/g)) if (m[1]) ids.add(m[1]);
  return [...ids];
}

function unescapeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function slackToPlainText(text: string, userNames: ReadonlyMap<string, string> = new Map()): string {
  const converted = text.replace(TOKEN, (whole, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? undefined : inner.slice(bar + 1);
    switch (target[0]) {
      case '@': {
        const id = target.slice(1);
        return `@${userNames.get(id) ?? label ?? id}`;
      }
      case '#':
        return `#${label ?? target.slice(1)}`;
      case '!': {
        const special = target.slice(1);
        if (special.startsWith('subteam^')) return label ? (label.startsWith('@') ? label : `@${label}`) : '@group';
        if (special.startsWith('date^')) return label ?? '';
        return `@${special}`;
      }
      default: {
        if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) return whole;
        const shown = target.startsWith('mailto:') ? target.slice('mailto:'.length) : target;
        if (!label || label === shown || label === target) return shown;
        return `${label} (${shown})`;
      }
    }
  });
  return unescapeEntities(converted);
}
