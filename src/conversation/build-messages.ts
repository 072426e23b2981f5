/**
 * Turns a Slack thread into the chat messages sent to the model: the bot's
 * own answers as `assistant` turns, people's messages as `user` turns that say
 * who spoke, oldest turns dropped first to stay within the budget.
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

export interface BuildInput {
  history: ThreadMessage[];
  /** The message being answered, already stripped of options. */
  prompt: string;
  triggerTs: string;
  triggerUser: string;
  botUserId?: string;
  botId?: string;
  userNames: ReadonlyMap<string, string>;
  maxContextChars: number;
  maxPromptChars: number;
}

export interface BuiltMessages {
  messages: ChatMessage[];
  /** The prompt was longer than allowed and was cut. */
  promptTruncatedFrom?: number;
  /** Earlier turns left out to stay within the budget. */
  droppedTurns: number;
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

export function buildMessages(input: BuildInput): BuiltMessages {
  const name = (id: string | undefined) => (id ? (input.userNames.get(id) ?? id) : 'someone');
  const isOwn = (m: ThreadMessage) =>
    (input.botId !== undefined && m.botId === input.botId) || (input.botUserId !== undefined && m.user === input.botUserId);

  let prompt = slackToPlainText(input.prompt, input.userNames);
  let promptTruncatedFrom: number | undefined;
  if (prompt.length > input.maxPromptChars) {
    promptTruncatedFrom = prompt.length;
    prompt = prompt.slice(0, input.maxPromptChars);
  }
  const latest: ChatMessage = { role: 'user', content: `${name(input.triggerUser)}: ${prompt}` };

  const earlier: ChatMessage[] = [];
  for (const m of input.history) {
    if (m.ts === input.triggerTs) continue;
    if (isOwn(m)) {
      if (m.metadataType === METADATA.pending || m.metadataType === METADATA.notice) continue;
      // The "thought for N s" and "stopped" lines are the bot's, not the model's: the model is not shown them as its own words.
      const said = m.text.replace(THOUGHT_LINE, '').replace(STOPPED_LINE, '');
      if (said.trim()) earlier.push({ role: 'assistant', content: said });
      continue;
    }
    const text = slackToPlainText(stripBotMention(m.text, input.botUserId), input.userNames).trim();
    if (!text) continue;
    const speaker = m.user ? name(m.user) : 'a bot';
    earlier.push({ role: 'user', content: `${speaker}: ${text.slice(0, input.maxPromptChars)}` });
  }

  let budget = input.maxContextChars - SYSTEM_PROMPT.length - latest.content.length;
  const kept: ChatMessage[] = [];
  for (let i = earlier.length - 1; i >= 0; i--) {
    const m = earlier[i] as ChatMessage;
    if (m.content.length > budget) break;
    budget -= m.content.length;
    kept.unshift(m);
  }
  // A thread may not start with an assistant turn for some chat templates.
  while (kept[0]?.role === 'assistant') kept.shift();

  return {
    messages: [{ role: 'system', content: SYSTEM_PROMPT }, ...kept, latest],
    ...(promptTruncatedFrom !== undefined ? { promptTruncatedFrom } : {}),
    droppedTurns: earlier.length - kept.length,
  };
}
