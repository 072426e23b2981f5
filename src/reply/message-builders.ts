/**
 * Every message the bot posts or edits is built here. Messages carry their
 * text in a `markdown` block (Slack renders standard Markdown; 12,000
 * characters at most) with a short plain `text` for notifications, so a
 * waiting note can also carry a Cancel button.
 */
import { createHash } from 'node:crypto';
import { inertMarkdown, inertMrkdwn } from '../inert-text.ts';

/** Slack's cumulative limit for the markdown blocks of one message. */
export const MARKDOWN_BLOCK_LIMIT = 12_000;
/** Notification text: Slack shows it in alerts and previews; chat.update allows 4,000 characters. */
const FALLBACK_CHARS = 300;
export const CANCEL_WAIT_ACTION = 'cancel_wait';

/** A short plain preview of markdown, for the notification `text` (mrkdwn: escaped, so nothing in it acts). */
export function fallbackText(markdown: string, liveUsers: readonly string[] = []): string {
  const plain = markdown.replace(/[`*_~#]/g, '').replace(/^\s*>+/gm, '').replace(/\s+/g, ' ').trim();
  const short = plain.length > FALLBACK_CHARS ? `${plain.slice(0, FALLBACK_CHARS - 1)}…` : plain || '…';
  return inertMrkdwn(short, liveUsers);
}

/**
 * A message carrying `markdown` as Slack renders it (a markdown block), with
 * a short plain `text` for notifications, and optionally a Cancel button.
 * Nothing in it acts in Slack (see inert-text.ts) except mentions of
 * `liveUsers`, ids the bot itself names on purpose. Slack is never asked to
 * link names (no `link_names`).
 */
export function markdownMessage(markdown: string, cancelValue?: string, liveUsers: readonly string[] = []): { text: string; blocks: object[] } {
  const inert = inertMarkdown(markdown, liveUsers);
  const blocks: object[] = [{ type: 'markdown', text: inert }];
  if (cancelValue) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: CANCEL_WAIT_ACTION, text: { type: 'plain_text', text: 'Cancel' }, style: 'danger', value: cancelValue },
      ],
    });
  }
  return { text: fallbackText(inert, liveUsers), blocks };
}

/** Message metadata naming the request a message belongs to (thread history and recovery read it back). */
export function requestMetadata(type: string, requestId: string) {
  return { event_type: type, event_payload: { request_id: requestId } };
}

/** A short fingerprint of what a message shows, kept with the job so a wake-up knows whether an edit would change anything. */
export function shownKey(markdown: string, type: string, cancelValue: string | undefined): string {
  return createHash('sha1').update(JSON.stringify([markdown, type, cancelValue ?? ''])).digest('base64url').slice(0, 16);
}
