/**
 * Decides whether a Slack message event is a question for the bot, and turns
 * it into a queued request. Edits, deletions, bot and app messages, and the
 * bot's own messages are ignored.
 */
import { pickFiles } from '../../../conversation/file-context.ts';
import type { AnswerJobData } from '../../../queue/answer-job.ts';

export interface IncomingMessage {
  type?: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
  edited?: unknown;
  team?: string;
  files?: unknown;
}

/** Subtypes that are still a person writing to us. */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

export function toAnswerRequest(
  event: IncomingMessage,
  ctx: { source: AnswerJobData['source']; teamId?: string; botUserId?: string; eventId?: string },
): AnswerJobData | undefined {
  if (!PERSON_SUBTYPES.has(event.subtype)) return undefined;
  if (event.bot_id || event.app_id || event.edited) return undefined;
  if (!event.user || !event.ts || !event.channel) return undefined;
  if (ctx.botUserId && event.user === ctx.botUserId) return undefined;
  const inThread = event.thread_ts !== undefined && event.thread_ts !== event.ts;
  const files = pickFiles(event.files);
  return {
    source: ctx.source,
    teamId: ctx.teamId ?? event.team,
    channel: event.channel,
    user: event.user,
    text: event.text ?? '',
    ts: event.ts,
    threadTs: event.thread_ts ?? event.ts,
    inThread,
    ...(files ? { files } : {}),
    eventId: ctx.eventId,
    receivedAt: Date.now(),
  };
}
