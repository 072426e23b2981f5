/**
 * What a Slack app manifest asks for: the bot scopes (`oauth_config.scopes.bot`,
 * for `metis-bot doctor` to compare with what the workspace granted), the bot
 * events (`settings.event_subscriptions.bot_events`) and the shortcuts
 * (`features.shortcuts`), which the fake Slack holds the bot to. No YAML
 * library is installed, so this reads just lists: block keys by indentation,
 * `- item` entries (a scalar, or `- key: value` with more `key: value` lines
 * under it), `#` comments.
 */
import { readFileSync } from 'node:fs';

type Entry = string | Record<string, string>;

const unquote = (s: string) => s.trim().replace(/^["']|["']$/g, '');

/** The entries of the list at `path`. */
function listAt(yaml: string, path: readonly string[]): Entry[] {
  const stack: { key: string; indent: number }[] = [];
  const entries: Entry[] = [];
  /** The map entry being read, and the indent of its `-`. */
  let open: { map: Record<string, string>; indent: number } | undefined;
  for (const raw of yaml.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const inList = stack.length === path.length && stack.every((s, i) => s.key === path[i]);
    const item = /^\s*-\s+(.+?)\s*$/.exec(line);
    if (item && inList && indent >= (stack[stack.length - 1]?.indent ?? 0)) {
      const pair = /^([A-Za-z0-9_]+):\s+(.+)$/.exec(item[1] as string);
      open = pair ? { map: { [pair[1] as string]: unquote(pair[2] as string) }, indent } : undefined;
      entries.push(open ? open.map : unquote(item[1] as string));
      continue;
    }
    const pair = /^\s*([A-Za-z0-9_]+):\s*(.*?)\s*$/.exec(line);
    if (open && pair?.[2] && indent > open.indent) {
      open.map[pair[1] as string] = unquote(pair[2]);
      continue;
    }
    open = undefined;
    while (stack.length && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    if (pair && !pair[2]) stack.push({ key: pair[1] as string, indent });
  }
  return entries;
}

const scalars = (entries: Entry[]) => entries.filter((e): e is string => typeof e === 'string');

export function manifestBotScopes(yaml: string): string[] {
  return scalars(listAt(yaml, ['oauth_config', 'scopes', 'bot']));
}

/** The events the app subscribes to as a bot (`message.channels`, `app_mention`…). */
export function manifestBotEvents(yaml: string): string[] {
  return scalars(listAt(yaml, ['settings', 'event_subscriptions', 'bot_events']));
}

/** The shortcuts, each with its `name`, `type`, `callback_id` and `description`. */
export function manifestShortcuts(yaml: string): Record<string, string>[] {
  return listAt(yaml, ['features', 'shortcuts']).filter((e): e is Record<string, string> => typeof e !== 'string');
}

/** The bot scopes of the manifest.yml shipped beside the program; undefined when it is not there. */
export function shippedManifestScopes(): string[] | undefined {
  try {
    return manifestBotScopes(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
  } catch {
    return undefined;
  }
}
