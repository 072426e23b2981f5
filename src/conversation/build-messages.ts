/**
 * Turns a Slack thread into the conversation sent to the model: the bot's
 * own answers as `assistant` turns, people's messages as `user` turns that
 * say who spoke, and the question last. Nothing is cut here: what fits the
 * model's window is decided in tokens by token-budget.ts.
 */
import { STOPPED_LINE, THOUGHT_LINE } from '../words.ts';
import type { ChatMessage } from '../gateway/client.ts';
import type { ThreadMessage } from './thread-message.ts';
import { mentionedUserIds, slackToPlainText } from './slack-markup.ts';
import { stripBotMention } from './parse-request.ts';

/** Marker types the bot puts on its own messages (Slack message metadata). */
export const METADATA = {
  pending: 'metis_pending',
  answer: 'metis_answer',
  notice: 'metis_notice',
} as const;

export const SYSTEM_PROMPT = [
  'You are Metis, an assistant answering in a Slack thread for a research team.',
  'Several people may take part; each of their messages starts with the speaker\'s name and a colon.',
  'Answer the latest message. Use Markdown where it helps (code blocks, lists), and be concise.',
].join(' ');

/** Introduces a channel's instructions: the model reads them as what the channel's members asked for, within the rules above. */
const CHANNEL_INSTRUCTIONS_LABEL =
  'The members of this Slack channel set these instructions for every question asked in it (their words, between the lines of three quotes; follow them where they fit the above):';

/** The system message: ours, then the channel's instructions, if it has any. */
function systemPrompt(instructions: string | undefined, userNames: ReadonlyMap<string, string>): string {
  // Three quotes inside would end the quoted block early and let the rest read as ours: they become one.
  const text = instructions && slackToPlainText(instructions, userNames).replace(/"{3,}/g, '"').trim();
  return text ? `${SYSTEM_PROMPT}\n\n${CHANNEL_INSTRUCTIONS_LABEL}\n"""\n${text}\n"""` : SYSTEM_PROMPT;
}

export interface BuildInput {
  history: ThreadMessage[];
  /** The message being answered, already stripped of options. */
  prompt: string;
  triggerTs: string;
  triggerUser: string;
  botUserId?: string;
  botId?: string;
  userNames: ReadonlyMap<string, string>;
  /** The channel's own instructions (/metis instructions), added to the system message under a label of their own. */
  instructions?: string;
}

export interface Conversation {
  system: string;
  /** Earlier turns, oldest first, without the question. */
  turns: ChatMessage[];
  /** For each turn, the ts of the Slack message it came from (files shared there go before it). */
  turnTs: string[];
  question: ChatMessage;
}

/**
 * Every user id whose name the conversation needs, those that matter most
 * first (the asker, whoever the question names, then the newest speakers):
 * only so many names are looked up per question.
 */
export function userIdsIn(input: Pick<BuildInput, 'history' | 'prompt' | 'triggerUser'>): string[] {
  const ids = new Set<string>([input.triggerUser]);
  for (const id of mentionedUserIds(input.prompt)) ids.add(id);
  for (let i = input.history.length - 1; i >= 0; i--) {
    const m = input.history[i] as ThreadMessage;
    if (m.user) ids.add(m.user);
    for (const id of mentionedUserIds(m.text)) ids.add(id);
  }
  return [...ids];
}

export function conversationOf(input: BuildInput): Conversation {
  const name = (id: string | undefined) => (id ? (input.userNames.get(id) ?? id) : 'someone');
  const isOwn = (m: ThreadMessage) =>
    (input.botId !== undefined && m.botId === input.botId) || (input.botUserId !== undefined && m.user === input.botUserId);

  const question: ChatMessage = { role: 'user', content: `${name(input.triggerUser)}: ${slackToPlainText(input.prompt, input.userNames)}` };
  const turns: ChatMessage[] = [];
  const turnTs: string[] = [];
  for (const m of input.history) {
    if (m.ts === input.triggerTs) continue;
    if (isOwn(m)) {
      if (m.metadataType === METADATA.pending || m.metadataType === METADATA.notice) continue;
      // The "thought for N s" and "stopped" lines are the bot's, not the model's: the model is not shown them as its own words.
      const said = m.text.replace(THOUGHT_LINE, '').replace(STOPPED_LINE, '');
      if (said.trim()) {
        turns.push({ role: 'assistant', content: said });
        turnTs.push(m.ts);
      }
      continue;
    }
    const text = slackToPlainText(stripBotMention(m.text, input.botUserId), input.userNames).trim();
    // A message that only shared a file still carries the file: keep a turn saying who shared it.
    if (!text && !m.files?.length) continue;
    const speaker = m.user ? name(m.user) : 'a bot';
    turns.push({ role: 'user', content: `${speaker}: ${text || '(shared a file)'}` });
    turnTs.push(m.ts);
  }
  return { system: systemPrompt(input.instructions, input.userNames), turns, turnTs, question };
}
