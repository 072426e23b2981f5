/**
 * What the fake Slack holds the bot to, read from manifest.yml like a
 * workspace the app was installed in from it: Slack delivers only the events
 * the app subscribes to, and offers only the shortcuts it declares (which need
 * the `commands` scope). A test that sends anything else fails at once,
 * rather than passing on a delivery no real workspace would make.
 */
import { readFileSync } from 'node:fs';
import { manifestBotEvents, manifestShortcuts } from '../../src/ops/manifest.ts';

const MANIFEST = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
export const MANIFEST_EVENTS = manifestBotEvents(MANIFEST);
export const MANIFEST_SHORTCUTS = manifestShortcuts(MANIFEST);

/** The subscription that delivers an event: `message` events by where they were written (slack.md §4.3). */
export function subscriptionFor(event: { type?: unknown; channel_type?: unknown }): string {
  if (event.type !== 'message') return String(event.type);
  const where: Record<string, string> = { channel: 'channels', group: 'groups', im: 'im', mpim: 'mpim' };
  return `message.${where[String(event.channel_type)] ?? String(event.channel_type)}`;
}

/** Throws for an Events API delivery the manifest does not subscribe to (other bodies pass: url_verification, forgeries…). */
export function assertSubscribed(body: unknown): void {
  const b = body as { type?: string; event?: { type?: unknown; channel_type?: unknown } } | undefined;
  if (b?.type !== 'event_callback' || !b.event) return;
  const needed = subscriptionFor(b.event);
  if (!MANIFEST_EVENTS.includes(needed)) throw new Error(`Slack would not deliver this event: manifest.yml's bot_events lack ${needed}`);
}

/** Throws unless the manifest declares a message shortcut with this callback id and the token holds `commands`. */
export function assertShortcut(callbackId: string, granted: readonly string[]): void {
  if (!MANIFEST_SHORTCUTS.some((s) => s.callback_id === callbackId && s.type === 'message'))
    throw new Error(`Slack offers no message shortcut ${callbackId}: manifest.yml's features.shortcuts lack it`);
  if (!granted.includes('commands')) throw new Error('shortcuts need the commands scope, which the bot token lacks');
}
