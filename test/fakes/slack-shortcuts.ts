/**
 * The fake Slack's modals and message shortcuts (slack.md §4.2): trigger ids
 * that open one view within 3 s, `views.open` checked against Block Kit's
 * limits, and the `message_action` and `view_submission` payloads Slack sends
 * (bolt-js `MessageShortcut`, `ViewSubmitAction`). slack.ts sends them as it
 * sends other interactive payloads.
 */
import { randomUUID } from 'node:crypto';

/** How long a trigger id may open a view (Slack: 3 s). */
const TRIGGER_LIFE_MS = 3000;

export interface OpenedView {
  id: string;
  /** Who the view was opened for. */
  user: string;
  view: Record<string, unknown>;
}

type Block = Record<string, unknown> & { type?: string; block_id?: string; element?: Record<string, unknown>; optional?: boolean };
type Option = { text: { type: string; text: string }; value: string };

const plainText = (t: unknown, max: number) => {
  const o = t as { type?: string; text?: string } | undefined;
  return o?.type === 'plain_text' && typeof o.text === 'string' && o.text.length > 0 && o.text.length <= max;
};

/** What Slack would refuse in a modal, or undefined. */
function viewProblem(view: Record<string, unknown>): string | undefined {
  if (view.type !== 'modal') return 'view.type must be modal';
  if (!plainText(view.title, 24)) return 'title: plain_text, at most 24 characters';
  if (view.submit !== undefined && !plainText(view.submit, 24)) return 'submit: plain_text, at most 24 characters';
  if (view.close !== undefined && !plainText(view.close, 24)) return 'close: plain_text, at most 24 characters';
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) return 'callback_id: at most 255 characters';
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) return 'private_metadata: at most 3000 characters';
  const blocks = view.blocks as Block[] | undefined;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 100) return 'blocks: 1 to 100';
  const ids = blocks.map((b) => b.block_id).filter(Boolean);
  if (new Set(ids).size !== ids.length) return 'block_id: must be unique';
  const inputs = blocks.filter((b) => b.type === 'input');
  if (inputs.length && view.submit === undefined) return 'a view with inputs needs submit';
  for (const b of inputs) {
    if (!plainText(b.label, 2000) || !b.element) return 'input: needs a plain_text label and an element';
    const e = b.element;
    if (e.type === 'plain_text_input' && typeof e.max_length === 'number' && e.max_length > 3000) return 'plain_text_input: max_length at most 3000';
    if (e.type === 'static_select') {
      const options = e.options as Option[] | undefined;
      if (!Array.isArray(options) || options.length === 0 || options.length > 100) return 'static_select: 1 to 100 options';
      if (options.some((o) => !plainText(o.text, 75) || typeof o.value !== 'string' || o.value.length > 150)) return 'option: text at most 75, value at most 150';
      const initial = e.initial_option as Option | undefined;
      if (initial && !options.some((o) => o.value === initial.value && o.text.text === initial.text.text)) return 'initial_option: must be one of the options';
    }
  }
  return undefined;
}

export function createViewsFake() {
  const triggers = new Map<string, { user: string; at: number; used: boolean }>();
  const views: OpenedView[] = [];
  let counter = 0;
  return {
    views,
    /** A trigger id, as Slack sends with a shortcut or button, for `user`. */
    trigger(user: string): string {
      const id = `${Date.now()}.${randomUUID()}`;
      triggers.set(id, { user, at: Date.now(), used: false });
      return id;
    },
    /** `views.open` (needs no scope): one view per trigger id, within its life. */
    open(params: Record<string, unknown>): Record<string, unknown> {
      const t = triggers.get(String(params.trigger_id ?? ''));
      if (!t) return { ok: false, error: 'invalid_trigger_id' };
      if (t.used) return { ok: false, error: 'exchanged_trigger_id' };
      if (Date.now() - t.at > TRIGGER_LIFE_MS) return { ok: false, error: 'expired_trigger_id' };
      const view = params.view as Record<string, unknown> | undefined;
      if (!view || typeof view !== 'object') return { ok: false, error: 'invalid_arguments' };
      const problem = viewProblem(view);
      if (problem) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: [`[ERROR] ${problem}`] } };
      t.used = true;
      counter += 1;
      const opened: OpenedView = { id: `V${String(counter).padStart(8, '0')}`, user: t.user, view };
      views.push(opened);
      return { ok: true, view: { id: opened.id, ...view, state: { values: {} } } };
    },
  };
}

/**
 * A `view_submission` for an opened view: `values` by block id (a select's by its option's value). Throws
 * where Slack would not let the person submit (a required input empty, an option not offered).
 */
export function viewSubmissionPayload(opened: OpenedView, values: Record<string, string>, team: string): Record<string, unknown> {
  const state: Record<string, Record<string, unknown>> = {};
  for (const b of (opened.view.blocks as Block[]).filter((x) => x.type === 'input')) {
    const e = b.element as Record<string, unknown> & { action_id: string; type: string };
    const value = values[b.block_id ?? ''];
    if (value === undefined || value === '') {
      if (!b.optional) throw new Error(`Slack would not submit: ${b.block_id} is required`);
      state[b.block_id as string] = { [e.action_id]: e.type === 'static_select' ? { type: e.type, selected_option: null } : { type: e.type, value: null } };
      continue;
    }
    if (e.type === 'static_select') {
      const option = (e.options as Option[]).find((o) => o.value === value);
      if (!option) throw new Error(`${value} is not an option of ${b.block_id}`);
      state[b.block_id as string] = { [e.action_id]: { type: e.type, selected_option: option } };
    } else {
      state[b.block_id as string] = { [e.action_id]: { type: e.type, value } };
    }
  }
  return {
    type: 'view_submission',
    team: { id: team, domain: 'fake' },
    user: { id: opened.user, username: 'ada', name: 'ada', team_id: team },
    api_app_id: 'A0APP',
    token: 'legacy',
    trigger_id: `${Date.now()}.${randomUUID()}`,
    view: { ...opened.view, id: opened.id, team_id: team, state: { values: state }, hash: randomUUID(), app_id: 'A0APP', bot_id: 'B0BOT' },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
