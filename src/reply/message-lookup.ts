/** One message of a thread, read from Slack: what a message shortcut was used on. */
import type { WebClient } from '@slack/web-api';
import type { ThreadMessage } from '../conversation/thread-message.ts';
import { markdownOf } from './thread-history.ts';

/**
 * The message `ts` of the thread `threadTs` (the message itself when it has no
 * thread); undefined when it is gone. One call, without waiting out a rate
 * limit: a person is waiting on a modal that must be answered within 3 s.
 */
export async function fetchMessage(client: WebClient, channel: string, threadTs: string, ts: string): Promise<ThreadMessage | undefined> {
  const res = await client.conversations.replies({ channel, ts: threadTs, oldest: ts, latest: ts, inclusive: true, limit: 1 });
  const m = (res.messages ?? []).find((x) => x.ts === ts);
  if (!m?.ts) return undefined;
  return { ts: m.ts, user: m.user, botId: m.bot_id, text: markdownOf(m.blocks) ?? m.text ?? '' };
}
