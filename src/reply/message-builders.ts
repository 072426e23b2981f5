/**
 * Every message the bot posts or edits is built here. Messages carry their
 * text in a `markdown` block (Slack renders standard Markdown; 12,000
 * characters at most) with a short plain `text` for notifications, so a
 * waiting note can also carry a Cancel button.
 */
import { createHash } from 'node:crypto';
import { inertMarkdown, inertMrkdwn } from '../inert-text.ts';
import { WORDS } from '../words.ts';

/** Slack's cumulative limit for the markdown blocks of one message. */
export const MARKDOWN_BLOCK_LIMIT = 12_000;
/** Notification text: Slack shows it in alerts and previews; chat.update allows 4,000 characters. */
const FALLBACK_CHARS = 300;
export const CANCEL_WAIT_ACTION = 'cancel_wait';
/** Stop on an answer being written (the asker or an admin). */
export const STOP_ANSWER_ACTION = 'stop_answer';
/** On a finished answer: ask the same question again, with the same model or another. */
export const REGENERATE_ACTION = 'regenerate_answer';
export const SWITCH_MODEL_ACTION = 'switch_model';
/** Slack's feedback buttons (👍/👎) on a finished answer. */
export const FEEDBACK_ACTION = 'answer_feedback';
/** Slack allows 100 options in a menu. */
const MAX_MENU_OPTIONS = 100;

/** What a finished answer offers under it: feedback, regenerate, and a menu of the Live models to ask instead. */
export interface FinishedControls {
  requestId: string;
  model: string;
  /** Live models for the menu (the answer's own model included or not). */
  models: readonly string[];
}

/**
 * The buttons under a message. A plain string is a waiting note's Cancel
 * (its value); `stop` is an answer being written; `finished` a finished one.
 */
export type MessageControls = string | { stop: string } | { finished: FinishedControls };

/** A value that names a request and one more thing (a model, a rating): `requestId|rest`. */
export function controlValue(requestId: string, rest: string): string {
  return `${requestId}|${rest}`;
}
export function readControlValue(value: string): { requestId: string; rest: string } | undefined {
  const at = value.indexOf('|');
  return at > 0 ? { requestId: value.slice(0, at), rest: value.slice(at + 1) } : undefined;
}

/** The buttons and menus of a message (Cancel, Stop, or a finished answer's feedback and re-runs), as blocks. */
export function controlBlocks(controls: MessageControls): object[] {
  const button = (action_id: string, text: string, value: string, style?: string) => ({ type: 'button', action_id, text: { type: 'plain_text', text }, value, ...(style ? { style } : {}) });
  if (typeof controls === 'string') return [{ type: 'actions', elements: [button(CANCEL_WAIT_ACTION, 'Cancel', controls, 'danger')] }];
  if ('stop' in controls) return [{ type: 'actions', elements: [button(STOP_ANSWER_ACTION, WORDS.control_stop(), controls.stop, 'danger')] }];
  const f = controls.finished;
  const option = (model: string) => ({ text: { type: 'plain_text', text: model.slice(0, 75) }, value: controlValue(f.requestId, model) });
  const models = f.models.slice(0, MAX_MENU_OPTIONS);
  return [
    {
      type: 'context_actions',
      elements: [
        {
          type: 'feedback_buttons',
          action_id: FEEDBACK_ACTION,
          positive_button: { text: { type: 'plain_text', text: WORDS.control_good() }, accessibility_label: WORDS.control_good_label(), value: controlValue(f.requestId, `up|${f.model}`) },
          negative_button: { text: { type: 'plain_text', text: WORDS.control_bad() }, accessibility_label: WORDS.control_bad_label(), value: controlValue(f.requestId, `down|${f.model}`) },
        },
      ],
    },
    {
      type: 'actions',
      elements: [
        button(REGENERATE_ACTION, WORDS.control_regenerate(), controlValue(f.requestId, f.model)),
        ...(models.length
          ? [{ type: 'static_select', action_id: SWITCH_MODEL_ACTION, placeholder: { type: 'plain_text', text: WORDS.control_other_model() }, options: models.map(option) }]
          : []),
      ],
    },
  ];
}

/** A short plain preview of markdown, for the notification `text` (mrkdwn: escaped, so nothing in it acts). */
export function fallbackText(markdown: string, liveUsers: readonly string[] = []): string {
  const plain = markdown.replace(/[`*_~#]/g, '').replace(/^\s*>+/gm, '').replace(/\s+/g, ' ').trim();
  const short = plain.length > FALLBACK_CHARS ? `${plain.slice(0, FALLBACK_CHARS - 1)}…` : plain || '…';
  return inertMrkdwn(short, liveUsers);
}

/**
 * A message carrying `markdown` as Slack renders it (a markdown block), with
 * a short plain `text` for notifications, and optionally buttons (MessageControls).
 * Nothing in it acts in Slack (see inert-text.ts) except mentions of
 * `liveUsers`, ids the bot itself names on purpose. Slack is never asked to
 * link names (no `link_names`).
 */
export function markdownMessage(markdown: string, controls?: MessageControls, liveUsers: readonly string[] = []): { text: string; blocks: object[] } {
  const inert = inertMarkdown(markdown, liveUsers);
  const blocks: object[] = [{ type: 'markdown', text: inert }];
  if (controls) blocks.push(...controlBlocks(controls));
  return { text: fallbackText(inert, liveUsers), blocks };
}

/** Message metadata naming the request a message belongs to (thread history and recovery read it back). */
export function requestMetadata(type: string, requestId: string) {
  return { event_type: type, event_payload: { request_id: requestId } };
}

/** A short fingerprint of what a message shows, kept with the job so a wake-up knows whether an edit would change anything. */
export function shownKey(markdown: string, type: string, controls: MessageControls | undefined): string {
  return createHash('sha1').update(JSON.stringify([markdown, type, controls ?? ''])).digest('base64url').slice(0, 16);
}
