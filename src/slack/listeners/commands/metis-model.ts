import { fallbackModelText } from '../../views/models.ts';
import type { SlashCommand } from '@slack/bolt';
import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/model-names.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';
import { WORDS } from '../../../words.ts';

/**
 * `/metis model [name|clear]`: show, set or clear the channel's default
 * model. A new default is announced in the channel, since it changes what
 * everyone there gets.
 */
export async function modelSubcommand(deps: ListenerDeps, command: SlashCommand, words: string[], reply: CommandReply): Promise<void> {
  const channel = command.channel_id;
  const current = await deps.preferences.channelDefault(channel);
  const wanted = words.join(' ');
  if (!wanted) {
    const offered = current ? undefined : (await deps.models.read())?.models.map((m) => m.name);
    await reply({
      response_type: 'ephemeral',
      text: current
        ? WORDS.channel_default_is({ model: current })
        : WORDS.channel_default_none_set_one({ fallback: fallbackModelText(deps.defaultModel, offered) }),
    });
    return;
  }
  if (['clear', 'none', 'reset'].includes(wanted.toLowerCase())) {
    await deps.preferences.setChannelDefault(channel, undefined);
    await reply({ response_type: 'in_channel', text: WORDS.channel_default_cleared({ user: command.user_id }) });
    return;
  }
  const snapshot = await deps.models.read();
  if (!snapshot) {
    await reply({ response_type: 'ephemeral', text: WORDS.models_loading() });
    return;
  }
  try {
    const model = resolveModelName(
      snapshot.models.map((m) => m.name),
      wanted,
    );
    await deps.preferences.setChannelDefault(channel, model, command.user_id);
    const status = snapshot.models.find((m) => m.name === model)?.status;
    await reply({ response_type: 'in_channel', text: WORDS.channel_default_set({ user: command.user_id, model, status }) });
  } catch (err) {
    if (!isMetisError(err)) throw err;
    await reply({ response_type: 'ephemeral', text: userMessageFor(err) });
  }
}
