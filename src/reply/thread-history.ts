/**
 * The earlier messages of a thread, oldest first, read with
 * conversations.replies newest first, only as far back as the model's
 * context budget reaches. Only messages up to and including the one being
 * answered are kept.
 */
import type { WebClient } from '@slack/web-api';
import { METADATA } from '../conversation/build-messages.ts';
import { pickFiles } from '../conversation/file-context.ts';
import type { ThreadMessage } from '../conversation/thread-message.ts';
import { withRateLimitWait } from './web-client.ts';

/** Messages per conversations.replies call (Slack suggests at most 200). */
const PAGE_SIZE = 200;
/** A backstop: the character budget normally ends the read after a page or two. */
const MAX_PAGES = 10;

/** The bot writes answers as markdown blocks; their text is the answer (the `text` field is a short preview). */
export function markdownOf(blocks: unknown): string | undefined {
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
export async function findRequestMessages(client: WebClient, channel: string, threadTs: string, requestId: string, afterTs?: string): Promise<string[]> {
  // Its messages come after the question: in a long thread, the first page from the root would not reach them.
  const res = await withRateLimitBackoff(() =>
    client.conversations.replies({ channel, ts: threadTs, ...(afterTs ? { oldest: afterTs } : {}), limit: PAGE_SIZE, include_all_metadata: true }),
  );
  return (res.messages ?? [])
    .filter((m) => {
      const metadata = (m as { metadata?: { event_type?: string; event_payload?: { request_id?: string } } }).metadata;
      return m.ts && metadata?.event_payload?.request_id === requestId && metadata.event_type !== METADATA.notice;
    })
    .map((m) => m.ts as string)
    .sort((a, b) => Number(a) - Number(b));
}

/**
 * The thread's messages up to and including `upToTs`, oldest first: only the
 * newest ones, read backwards a page at a time until they hold `budgetChars`
 * of text, so a thread of thousands of messages costs a page or two of a
 * tight, workspace-wide rate tier. A model's window in tokens is a budget
 * that reads enough: no token is shorter than one character.
 */
export async function fetchThread(client: WebClient, channel: string, threadTs: string, upToTs: string, budgetChars: number): Promise<ThreadMessage[]> {
  const byTs = new Map<string, ThreadMessage>();
  let chars = 0;
  let latest = upToTs;
  for (let page = 0; page < MAX_PAGES && chars < budgetChars; page++) {
    // With `latest`, Slack returns the messages closest to it; `inclusive` keeps the trigger (and the root).
    const res = await withRateLimitBackoff(() =>
      client.conversations.replies({ channel, ts: threadTs, oldest: threadTs, latest, inclusive: true, limit: PAGE_SIZE, include_all_metadata: true }),
    );
    let oldestSeen = latest;
    for (const m of res.messages ?? []) {
      if (!m.ts || compareTs(m.ts, upToTs) > 0 || byTs.has(m.ts)) continue;
      const text = markdownOf(m.blocks) ?? m.text ?? '';
      byTs.set(m.ts, {
        ts: m.ts,
        user: m.user,
        botId: m.bot_id,
        text,
        metadataType: (m as { metadata?: { event_type?: string } }).metadata?.event_type,
        files: pickFiles((m as { files?: unknown }).files),
      });
      // One huge message counts only as much as the budget it could fill.
      chars += Math.min(text.length, budgetChars);
      if (compareTs(m.ts, oldestSeen) < 0) oldestSeen = m.ts;
    }
    const more = res.has_more || Boolean(res.response_metadata?.next_cursor);
    if (!more || oldestSeen === latest || compareTs(oldestSeen, threadTs) <= 0) break;
    latest = oldestSeen;
  }
  return [...byTs.values()].sort((a, b) => compareTs(a.ts, b.ts));
}

/** Orders Slack timestamps exactly (as numbers, two a microsecond apart can compare equal). */
export function compareTs(a: string, b: string): number {
  const [as = '0', af = ''] = a.split('.');
  const [bs = '0', bf = ''] = b.split('.');
  return Number(as) - Number(bs) || af.padEnd(6, '0').localeCompare(bf.padEnd(6, '0'));
}
