import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { METADATA } from '../../../conversation/build-messages.ts';
import { MetisError, userMessageFor } from '../../../errors.ts';
import { decideCancel } from '../../../queue/cancellation.ts';
import { markdownMessage } from '../../../reply/message-builders.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { buttonClicker } from './clicker.ts';
import { WORDS } from '../../../words.ts';

type CancelArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/**
 * Cancel on a waiting note (its value names the request): only on the note's
 * own message, and only by the asker or an administrator (see decideCancel).
 * A waiting request is removed at once and its note says so; one that is
 * running sees the flag when it next wakes.
 */
export function cancelWaitAction(deps: ListenerDeps) {
  // No allow-list check: the asker passed it to be queued, and the check below is stricter.
  return acknowledgedFirst<CancelArgs>(deps, { what: 'cancel', asker: buttonClicker, allowedOnly: false }, async ({ body, action }, reply, clicker) => {
    const jobId = action.value;
    if (!jobId) return;
    const request = await deps.findRequest(jobId);
    if (!request) {
      await reply({ response_type: 'ephemeral', text: WORDS.cancel_already_done() });
      return;
    }
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const decision = decideCancel(request, { user: clicker.user, channel: body.channel?.id, messageTs }, deps.team.admins);
    if (decision === 'not_this_message') {
      deps.logger.warn({ requestId: jobId, user: clicker.user, channel: body.channel?.id, messageTs }, 'a Cancel click does not match the message of the request it names');
      await reply({ response_type: 'ephemeral', text: userMessageFor(new MetisError('button_not_this_request', 'cancel on another message')) });
      return;
    }
    if (decision === 'not_allowed') {
      await reply({ response_type: 'ephemeral', text: WORDS.cancel_not_allowed({ asker: request.user }) });
      return;
    }
    await deps.cancellations.cancel(jobId, clicker.user);
    const removed = await deps.removeWaiting(jobId);
    deps.logger.info({ requestId: jobId, user: clicker.user, removed }, 'wait cancelled');
    if (removed && messageTs) {
      await deps.slack.chat.update({
        channel: request.channel,
        ts: messageTs,
        ...markdownMessage(WORDS.cancelled_by({ user: clicker.user }), undefined, [clicker.user]),
        metadata: { event_type: METADATA.notice, event_payload: { request_id: jobId } },
      } as Parameters<typeof deps.slack.chat.update>[0]);
    }
  });
}
