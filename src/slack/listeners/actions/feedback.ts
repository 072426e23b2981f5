import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { MetisError, userMessageFor } from '../../../errors.ts';
import { readControlValue } from '../../../reply/message-builders.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { buttonClicker } from './clicker.ts';
import { WORDS } from '../../../words.ts';

type FeedbackArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/**
 * Slack's 👍/👎 under a finished answer: the value names the request, the
 * rating and the model; it counts only on a message the bot posted for that
 * very request (the worker remembers each), and names a model Metis offers,
 * so a crafted click cannot rate another answer or invent a model. Anyone who may use the bot may rate.
 */
export function feedbackAction(deps: ListenerDeps) {
  return acknowledgedFirst<FeedbackArgs>(deps, { what: 'feedback', asker: buttonClicker, allowedOnly: true }, async ({ body, action }, reply, clicker) => {
    const parsed = readControlValue(action.value ?? '');
    const [rating, ...rest] = parsed?.rest.split('|') ?? [];
    const model = rest.join('|');
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const [owner, snapshot] = await Promise.all([
      messageTs ? deps.cancellations.requestOfMessage(clicker.channel, messageTs) : undefined,
      deps.models.lastKnown(),
    ]);
    const knownModel = snapshot ? snapshot.models.some((m) => m.name === model) : model.length > 0;
    if (!parsed || (rating !== 'up' && rating !== 'down') || !knownModel || owner !== parsed.requestId) {
      deps.logger.warn({ user: clicker.user, channel: clicker.channel, messageTs }, 'a feedback click does not match the answer it names');
      await reply({ response_type: 'ephemeral', text: userMessageFor(new MetisError('button_not_this_request', 'feedback on another message')) });
      return;
    }
    const result = await deps.team.recordFeedback({ requestId: parsed.requestId, user: clicker.user, channel: clicker.channel, model, rating });
    deps.logger.info({ requestId: parsed.requestId, user: clicker.user, model, rating, result }, 'feedback');
    await reply({ response_type: 'ephemeral', text: WORDS.feedback_thanks() });
  });
}
