/**
 * A reply in a channel thread that does not mention the bot (slack.md §4.3):
 * answered only when its writer is the person the bot last answered in that
 * thread, so that person can keep talking to it while two people talking in
 * the thread are not interrupted. A bot receives every message of its
 * channels: anything not a thread reply is dropped before Redis is asked,
 * and the asker is one small key (team/thread-askers.ts), never the thread.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../types.ts';
import { type IncomingMessage, toAnswerRequest } from './answer-request.ts';

/** Public and private channels (message.channels, message.groups); DMs have a listener of their own. */
const CHANNEL_TYPES = new Set(['channel', 'group']);
/** Any user mention: one of the bot is answered from its app_mention event (the same message arrives twice), one of someone else is for them. */
const MENTIONS_SOMEONE = /<@[UW][A-Z0-9]+/;

export function threadFollowUp(deps: Pick<ListenerDeps, 'enqueue' | 'threadAskers'>) {
  return async ({ message, body, context }: SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs) => {
    const event = message as IncomingMessage;
    if (!CHANNEL_TYPES.has(event.channel_type ?? '')) return;
    if (!event.thread_ts || event.thread_ts === event.ts) return;
    if (MENTIONS_SOMEONE.test(event.text ?? '')) return;
    const request = toAnswerRequest(event, {
      source: 'follow-up',
      teamId: context.teamId,
      botUserId: context.botUserId,
      eventId: (body as { event_id?: string }).event_id,
    });
    if (!request) return;
    if ((await deps.threadAskers.asker(request.channel, request.threadTs)) !== request.user) return;
    await deps.enqueue(request);
  };
}
