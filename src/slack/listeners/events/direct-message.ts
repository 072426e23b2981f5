import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { EnqueueAnswer } from '../types.ts';
import { type IncomingMessage, toAnswerRequest } from './answer-request.ts';

/** A message in a DM with the bot (no mention needed): enqueue it. */
export function directMessage(enqueue: EnqueueAnswer) {
  return async ({ message, body, context }: SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs) => {
    const event = message as IncomingMessage;
    if (event.channel_type !== 'im') return;
    const request = toAnswerRequest(event, {
      source: 'dm',
      teamId: context.teamId,
      botUserId: context.botUserId,
      eventId: (body as { event_id?: string }).event_id,
    });
    if (request) await enqueue(request);
  };
}
