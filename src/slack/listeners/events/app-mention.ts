import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { EnqueueAnswer } from '../types.ts';
import { toAnswerRequest } from './answer-request.ts';

/** `@metis …` in a channel: enqueue it; the worker does the rest. */
export function appMention(enqueue: EnqueueAnswer) {
  return async ({ event, body, context }: SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs) => {
    const request = toAnswerRequest(event, {
      source: 'mention',
      teamId: context.teamId,
      botUserId: context.botUserId,
      eventId: (body as { event_id?: string }).event_id,
    });
    if (request) await enqueue(request);
  };
}
