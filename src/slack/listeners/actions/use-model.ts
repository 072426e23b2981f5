import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { inertEcho } from '../../inert-text.ts';
import type { ListenerDeps } from '../types.ts';

/** "Use in this channel" on a model: makes it the channel's default. */
export function useModelAction(deps: ListenerDeps) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const channel = body.channel?.id;
    const model = action.value;
    if (!channel || !model) return;
    await deps.preferences.setChannelDefault(channel, model, body.user.id);
    await respond({
      response_type: 'ephemeral',
      replace_original: false,
      text: `:pushpin: This channel now uses \`${inertEcho(model)}\` by default (set by <@${body.user.id}>). \`/metis model clear\` undoes it.`,
    });
  };
}
