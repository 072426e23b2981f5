/**
 * Secrets stay secret: nothing the bot logged, stored in Redis or posted to
 * Slack may contain a token or secret it was given.
 */
import { expect } from 'vitest';
import { APP_TOKEN, BOT_TOKEN, SIGNING_SECRET } from '../fakes/slack.ts';
import { GLOBUS_CLIENT_SECRET } from '../fakes/globus.ts';
import type { Harness } from './harness.ts';

export async function expectNoSecretsLeaked(h: Harness): Promise<void> {
  const secrets = [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, GLOBUS_CLIENT_SECRET, 'valid-token', ...(h.globus?.issued ?? [])];
  const logs = h.rawLogs.join('\n');
  const posted = h.slack.messages.filter((m) => m.bot_id).map((m) => m.text).join('\n');
  const stored: string[] = [];
  for (const key of await h.redis.keys(`${h.prefix}:*`)) {
    const type = await h.redis.type(key);
    if (type === 'string') stored.push((await h.redis.get(key)) ?? '');
    else if (type === 'hash') stored.push(JSON.stringify(await h.redis.hgetall(key)));
    else if (type === 'list') stored.push(JSON.stringify(await h.redis.lrange(key, 0, -1)));
  }
  for (const secret of secrets) {
    expect(logs.includes(secret), `a log line contains ${secret.slice(0, 6)}…`).toBe(false);
    expect(posted.includes(secret), `a Slack message contains ${secret.slice(0, 6)}…`).toBe(false);
    expect(stored.join('\n').includes(secret), `Redis holds ${secret.slice(0, 6)}… in plaintext`).toBe(false);
  }
}
