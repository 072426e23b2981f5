import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { MetisError, userMessageFor } from '../../../errors.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { buttonClicker } from './clicker.ts';
import { WORDS } from '../../../words.ts';

type UseModelArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/**
 * "Use in this channel" on a model: makes it the channel's default, under the
 * same rules as `/metis model` (allowed people only; announced in the
 * channel). The button's value is the clicker's word, so only the name of a
 * model that is Live in the catalog is accepted, and what is stored is the
 * catalog's name, never the value itself.
 */
export function useModelAction(deps: ListenerDeps) {
  return acknowledgedFirst<UseModelArgs>(deps, { what: 'use model', asker: buttonClicker, allowedOnly: true }, async ({ action }, reply, clicker) => {
    const snapshot = await deps.models.read();
    if (!snapshot) {
      await reply({ response_type: 'ephemeral', text: WORDS.models_loading() });
      return;
    }
    const model = snapshot.models.find((m) => m.name === action.value && m.status === 'Live');
    if (!model) {
      deps.logger.warn(
        { user: clicker.user, channel: clicker.channel, valueChars: action.value?.length ?? 0, known: snapshot.models.some((m) => m.name === action.value) },
        '"Use in this channel" named no Live model; default unchanged',
      );
      await reply({ response_type: 'ephemeral', text: userMessageFor(new MetisError('button_not_live_model', 'button value is not a Live model')) });
      return;
    }
    await deps.preferences.setChannelDefault(clicker.channel, model.name, clicker.user);
    await reply({ response_type: 'in_channel', text: WORDS.channel_default_set({ user: clicker.user, model: model.name, status: model.status }) });
  });
}
