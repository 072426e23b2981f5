/**
 * The "Ask Metis about this" modal: a question, and a menu of the models Live
 * now (left empty, the thread's usual model answers). Which message it is
 * about travels in `private_metadata` and comes back with the submission.
 */
import { WORDS } from '../../words.ts';

export const ASK_SHORTCUT = 'metis_ask_about';
export const SUMMARY_SHORTCUT = 'metis_summarize_thread';
export const ASK_MODAL = 'metis_ask_modal';
export const QUESTION_BLOCK = 'question';
export const MODEL_BLOCK = 'model';

/** Slack's limits: 100 options in a menu, 75 characters of option text, 150 of value. */
const MAX_OPTIONS = 100;
const OPTION_TEXT = 75;
const OPTION_VALUE = 150;
const QUESTION_MAX = 3000;

/** The message asked about, and when the shortcut was used (the request's own ts). */
export interface AskAbout {
  channel: string;
  messageTs: string;
  threadTs: string;
  actionTs: string;
}

const plain = (text: string) => ({ type: 'plain_text', text });

export function askModal(about: AskAbout, liveModels: string[]): Record<string, unknown> {
  const words = WORDS.ask_modal();
  const options = liveModels
    .filter((m) => m.length <= OPTION_VALUE)
    .slice(0, MAX_OPTIONS)
    .map((m) => ({ text: plain(m.length > OPTION_TEXT ? `${m.slice(0, OPTION_TEXT - 1)}…` : m), value: m }));
  const modelBlock = options.length
    ? {
        type: 'input',
        block_id: MODEL_BLOCK,
        optional: true,
        label: plain(words.model),
        element: { type: 'static_select', action_id: MODEL_BLOCK, placeholder: plain(words.modelPlaceholder), options },
      }
    : { type: 'context', elements: [{ type: 'mrkdwn', text: WORDS.ask_no_live_model() }] };
  return {
    type: 'modal',
    callback_id: ASK_MODAL,
    title: plain(words.title),
    submit: plain(words.submit),
    private_metadata: JSON.stringify({ c: about.channel, m: about.messageTs, t: about.threadTs, a: about.actionTs }),
    blocks: [
      {
        type: 'input',
        block_id: QUESTION_BLOCK,
        label: plain(words.question),
        element: { type: 'plain_text_input', action_id: QUESTION_BLOCK, multiline: true, max_length: QUESTION_MAX },
      },
      modelBlock,
    ],
  };
}

interface SubmittedView {
  private_metadata?: string;
  state?: { values?: Record<string, Record<string, { value?: string | null; selected_option?: { value?: string } | null }>> };
}

const SLACK_TS = /^\d+\.\d+$/;

/** What was submitted; undefined when the metadata is not what askModal wrote. */
export function readAskModal(view: SubmittedView): { about: AskAbout; question: string; model?: string } | undefined {
  let meta: { c?: unknown; m?: unknown; t?: unknown; a?: unknown };
  try {
    meta = JSON.parse(view.private_metadata ?? '');
  } catch {
    return undefined;
  }
  const { c, m, t, a } = meta;
  if (typeof c !== 'string' || ![m, t, a].every((x) => typeof x === 'string' && SLACK_TS.test(x))) return undefined;
  const values = view.state?.values ?? {};
  const question = (values[QUESTION_BLOCK]?.[QUESTION_BLOCK]?.value ?? '').trim();
  const model = values[MODEL_BLOCK]?.[MODEL_BLOCK]?.selected_option?.value ?? undefined;
  return { about: { channel: c, messageTs: m as string, threadTs: t as string, actionTs: a as string }, question, ...(model ? { model } : {}) };
}
