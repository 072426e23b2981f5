/**
 * The bot scopes a Slack app manifest asks for (`oauth_config.scopes.bot`),
 * for `metis-bot doctor` to compare with what the workspace granted. No YAML
 * library is installed, so this reads just that list: block keys by
 * indentation, `- item` entries, `#` comments.
 */
import { readFileSync } from 'node:fs';

export function manifestBotScopes(yaml: string): string[] {
  const path = ['oauth_config', 'scopes', 'bot'];
  const stack: { key: string; indent: number }[] = [];
  const scopes: string[] = [];
  for (const raw of yaml.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const item = /^\s*-\s+(.+?)\s*$/.exec(line);
    const inBot = stack.length === path.length && stack.every((s, i) => s.key === path[i]);
    if (item && inBot && indent >= (stack[stack.length - 1]?.indent ?? 0)) {
      scopes.push((item[1] as string).replace(/^["']|["']$/g, ''));
      continue;
    }
    const key = /^\s*([A-Za-z0-9_]+):\s*$/.exec(line);
    while (stack.length && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    if (key) stack.push({ key: key[1] as string, indent });
  }
  return scopes;
}

/** The bot scopes of the manifest.yml shipped beside the program; undefined when it is not there. */
export function shippedManifestScopes(): string[] | undefined {
  try {
    return manifestBotScopes(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
  } catch {
    return undefined;
  }
}
