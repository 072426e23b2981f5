/**
 * The earlier messages of a thread, oldest first, read with
 * conversations.replies (paged). Only messages up to and including the one
 * being answered are kept.
 */
import type { WebClient } from '@slack/web-api';
import { METADATA } from '../conversation/build-messages.ts';
import { withRateLimitWait } from './web-client.ts';

export interface ThreadMessage {
  ts: string;
  user?: string;
  botId?: string;
  text: string;
  /** Our own marker on bot messages: pending, answer or notice. */
  metadataType?: string;
}

const MAX_PAGES = 10;

/** The bot writes answers as markdown blocks; their text is the answer (the `text` field is a short preview). */
function markdownOf(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return undefined;
  const parts = blocks.filter((b): b is { type: string; text: string } => b?.type === 'markdown' && typeof b.text === 'string').map((b) => b.text);
  return parts.length ? parts.join('\n') : undefined;
}

/** conversations.replies has a tier limit shared by the whole workspace: when Slack asks, wait and ask again. */
const withRateLimitBackoff = <T>(call: () => Promise<T>) => withRateLimitWait(call, { tries: 4, maxWaitMs: 30_000 });

/**
 * The messages this bot posted for `requestId` in a thread, oldest first:
 * after a worker died between posting a placeholder and recording it, the
 * next worker finds it here instead of leaving it behind.
 */
export async function findRequestMessages(client: WebClient, channel: string, threadTs: string, requestId: string): Promise<string[]> {
  const res = await withRateLimitBackoff(() => client.conversations.replies({ channel, ts: threadTs, limit: 200, include_all_metadata: true }));
  return (res.messages ?? [])
    .filter((m) => {
      const metadata = (m as { metadata?: { event_type?: string; event_payload?: { request_id?: string } } }).metadata;
      return m.ts && metadata?.event_payload?.request_id === requestId && metadata.event_type !== METADATA.notice;
    })
    .map((m) => m.ts as string)
    .sort((a, b) => Number(a) - Number(b));
}

export async function fetchThread(client: WebClient, channel: string, threadTs: string, upToTs: string): Promise<ThreadMessage[]> {
  const out: ThreadMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await withRateLimitBackoff(() =>
      client.conversations.replies({
        channel,
        ts: threadTs,
        limit: 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      }),
    );
    for (const m of res.messages ?? []) {
      if (!m.ts || Number(m.ts) > Number(upToTs)) continue;
      out.push({
        ts: m.ts,
        user: m.user,
        botId: m.bot_id,
        text: markdownOf(m.blocks) ?? m.text ?? '',
        metadataType: (m as { metadata?: { event_type?: string } }).metadata?.event_type,
      });
    }
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  out.sort((a, b) => Number(a.ts) - Number(b.ts));
  return out;
}
