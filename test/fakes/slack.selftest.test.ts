/**
 * The fake Slack grants only the manifest's bot scopes, as a workspace the app
 * was installed in from manifest.yml would.
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { BOT_TOKEN, type FakeSlack, manifestBotScopes, startFakeSlack } from './slack.ts';

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

const call = async (method: string, params: Record<string, string>) => {
  const res = await fetch(`${slack?.apiUrl}${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return (await res.json()) as Record<string, unknown>;
};

it('reads the bot scopes of a manifest, and only those', () => {
  const yaml = [
    'features:',
    '  bot_user:',
    '    display_name: metis',
    'oauth_config:',
    '  scopes:',
    '    bot:',
    '      - app_mentions:read   # mentions',
    '      # a comment line',
    '      - "chat:write"',
    '    user:',
    '      - search:read',
    'settings:',
    '  event_subscriptions:',
    '    bot_events:',
    '      - app_mention',
  ].join('\n');
  expect(manifestBotScopes(yaml)).toEqual(['app_mentions:read', 'chat:write']);
  const ours = manifestBotScopes(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
  expect(ours).toContain('chat:write');
  expect(ours).not.toContain('im:write');
});

it('refuses a method whose scope the manifest does not grant, as Slack does', async () => {
  slack = await startFakeSlack();
  const granted = manifestBotScopes(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
  // conversations.open needs im:write, which the manifest does not ask for.
  expect(await call('conversations.open', { users: 'U0ADMIN' })).toEqual({ ok: false, error: 'missing_scope', needed: 'im:write', provided: granted.join(',') });
  expect((await call('chat.postMessage', { channel: 'C0CHAN', text: 'hi' })).ok).toBe(true);
});

it('refuses what a narrower install lacks, and posts to a user id in their DM', async () => {
  slack = await startFakeSlack({ botScopes: ['chat:write'] });
  expect(await call('users.info', { user: 'U0HUMAN' })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'users:read', provided: 'chat:write' });
  expect(await call('conversations.replies', { channel: 'D0DM', ts: '1.0' })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'im:history' });
  const posted = await call('chat.postMessage', { channel: 'U0ADMIN', text: 'alert' });
  expect(posted).toMatchObject({ ok: true, channel: 'D0ADMIN' });
  expect(slack.messages.at(-1)).toMatchObject({ channel: 'D0ADMIN', text: 'alert' });
});

it('serves a file only with the bot token (else its sign-in page, with 200), and files.info only with files:read', async () => {
  slack = await startFakeSlack();
  const { file, shared } = slack.addFile({ name: 'a.txt', mimetype: 'text/plain', content: 'hello', connect: true });
  expect(shared).toEqual(expect.objectContaining({ id: file.id, file_access: 'check_file_info' }));
  expect(await call('files.info', { file: String(file.id) })).toMatchObject({ ok: true, file: { name: 'a.txt', url_private_download: file.url_private_download } });
  const url = String(file.url_private_download);
  const withToken = await fetch(url, { headers: { authorization: `Bearer ${BOT_TOKEN}` } });
  expect(await withToken.text()).toBe('hello');
  const without = await fetch(url);
  expect(without.status).toBe(200);
  expect(without.headers.get('content-type')).toContain('text/html');
  expect(without.redirected).toBe(true);
  slack.setGrantedScopes(['chat:write']);
  expect(await call('files.info', { file: String(file.id) })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'files:read' });
});
