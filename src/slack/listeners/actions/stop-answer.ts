import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { MetisError, userMessageFor } from '../../../errors.ts';
import { decideCancel } from '../../../queue/cancellation.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { buttonClicker } from './clicker.ts';
import { WORDS } from '../../../words.ts';

type StopArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** What may stop an answer, and what the person is told when it may not. */
export type StopDecision = 'stopped' | 'gone' | 'not_this_message' | 'not_allowed';

/**
 * Stops an answer being written, as the Cancel button stops a wait (the same
 * rules: decideCancel): the flag and the stop message go out (see
 * cancellation.ts), and the worker running it closes its gateway request and
 * marks the text so far as stopped.
 */
export async function stopAnswer(deps: ListenerDeps, jobId: string, click: { user: string; channel?: string; messageTs?: string }): Promise<{ decision: StopDecision; asker?: string }> {
  const request = await deps.findRequest(jobId);
  if (!request) return { decision: 'gone' };
  const decision = decideCancel(request, click, deps.team.admins);
  if (decision === 'not_this_message') {
    deps.logger.warn({ requestId: jobId, user: click.user, channel: click.channel, messageTs: click.messageTs }, 'a Stop does not match the message of the request it names');
    return { decision };
  }
  if (decision === 'not_allowed') return { decision, asker: request.user };
  await deps.cancellations.cancel(jobId, click.user);
  deps.logger.info({ requestId: jobId, user: click.user }, 'answer stop requested');
  return { decision: 'stopped' };
}

/** The Stop button on an answer being written (its value names the request). */
export function stopAnswerAction(deps: ListenerDeps) {
  // No allow-list check: the asker passed it to be answered, and the check in stopAnswer is stricter.
  return acknowledgedFirst<StopArgs>(deps, { what: 'stop', asker: buttonClicker, allowedOnly: false }, async ({ body, action }, reply, clicker) => {
    if (!action.value) return;
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const { decision, asker } = await stopAnswer(deps, action.value, { user: clicker.user, channel: body.channel?.id, messageTs });
    if (decision === 'gone') await reply({ response_type: 'ephemeral', text: WORDS.stop_already_done() });
    if (decision === 'not_this_message') await reply({ response_type: 'ephemeral', text: userMessageFor(new MetisError('button_not_this_request', 'stop on another message')) });
    if (decision === 'not_allowed') await reply({ response_type: 'ephemeral', text: WORDS.stop_not_allowed({ asker: asker ?? '' }) });
  });
}
