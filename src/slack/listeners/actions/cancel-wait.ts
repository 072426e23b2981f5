import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { METADATA } from '../../../conversation/build-messages.ts';
import { markdownMessage } from '../../../reply/answer-message.ts';
import type { ListenerDeps } from '../types.ts';

/**
 * Cancel on a waiting note: only the person who asked may cancel. A waiting
 * request is removed at once and its note says so; one that is running sees
 * the flag when it next wakes.
 */
export function cancelWaitAction(deps: ListenerDeps) {
  return async ({ ack, body, action, respond, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const jobId = action.value;
    if (!jobId) return;
    const request = await deps.findRequest(jobId);
    if (!request) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'That question has already been answered or cancelled.' });
      return;
    }
    if (request.user !== body.user.id) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Only <@${request.user}>, who asked, can cancel this wait.` });
      return;
    }
    await deps.cancellations.cancel(jobId, body.user.id);
    const removed = await deps.removeWaiting(jobId);
    deps.logger.info({ requestId: jobId, user: body.user.id, removed }, 'wait cancelled');
    const channel = body.channel?.id;
    const ts = body.message?.ts;
    if (removed && channel && ts) {
      const text = `:no_entry_sign: _Cancelled by <@${body.user.id}>._`;
      await client.chat.update({
        channel,
        ts,
        ...markdownMessage(text),
        metadata: { event_type: METADATA.notice, event_payload: { request_id: jobId } },
      } as Parameters<typeof client.chat.update>[0]);
    }
  };
}
