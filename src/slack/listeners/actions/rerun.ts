import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs, StaticSelectAction } from '@slack/bolt';
import { MetisError, userMessageFor } from '../../../errors.ts';
import { readControlValue } from '../../../reply/message-builders.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { WORDS } from '../../../words.ts';

type RerunArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction | StaticSelectAction>> & AllMiddlewareArgs;

function clicker({ body }: RerunArgs) {
  const channel = body.channel?.id ?? body.container?.channel_id;
  return channel ? { user: body.user.id, channel, teamId: body.user.team_id ?? body.team?.id ?? undefined } : undefined;
}

/**
 * Regenerate (a button) and "ask another model" (a menu of the models that
 * were Live) under a finished answer: the same question is asked again in
 * its thread, with the same context (the thread up to the question), as a
 * job of its own. Only on a message the bot posted for that request, by the
 * asker or an administrator (it spends the team's tokens on their question),
 * and only with a model Metis offers.
 */
export function rerunAction(deps: ListenerDeps) {
  return acknowledgedFirst<RerunArgs>(deps, { what: 'regenerate', asker: clicker, allowedOnly: true }, async ({ body, action }, reply, who) => {
    const value = action.type === 'static_select' ? action.selected_option?.value : action.value;
    const parsed = readControlValue(value ?? '');
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const owner = messageTs ? await deps.cancellations.requestOfMessage(who.channel, messageTs) : undefined;
    if (!parsed || owner !== parsed.requestId) {
      deps.logger.warn({ user: who.user, channel: who.channel, messageTs }, 'a regenerate click does not match the answer it names');
      await reply({ response_type: 'ephemeral', text: userMessageFor(new MetisError('button_not_this_request', 'regenerate on another message')) });
      return;
    }
    const request = await deps.findAsked(parsed.requestId);
    if (!request) {
      await reply({ response_type: 'ephemeral', text: WORDS.rerun_not_found() });
      return;
    }
    if (who.user !== request.user && !deps.team.admins.includes(who.user)) {
      await reply({ response_type: 'ephemeral', text: WORDS.rerun_not_allowed({ asker: request.user }) });
      return;
    }
    const model = parsed.rest;
    const snapshot = await deps.models.lastKnown();
    if (!snapshot?.models.some((m) => m.name === model)) {
      await reply({ response_type: 'ephemeral', text: WORDS.rerun_model_not_live({ model }) });
      return;
    }
    const jobId = await deps.enqueueRerun(request, model);
    deps.logger.info({ requestId: jobId, from: parsed.requestId, user: who.user, model }, 'question asked again');
  });
}
