import type { SlashCommand } from '@slack/bolt';
import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/choose-model.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';

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
    await reply({
      response_type: 'ephemeral',
      text: current
        ? `This channel's default model is \`${current}\`. Change it with \`/metis model <name>\`, or \`/metis model clear\`.`
        : `This channel has no default model; I use ${deps.defaultModel ? `\`${deps.defaultModel}\`` : 'the first Live model'}. Set one with \`/metis model <name>\`.`,
    });
    return;
  }
  if (['clear', 'none', 'reset'].includes(wanted.toLowerCase())) {
    await deps.preferences.setChannelDefault(channel, undefined);
    await reply({ response_type: 'in_channel', text: `<@${command.user_id}> cleared this channel's default model.` });
    return;
  }
  const snapshot = await deps.models.read();
  if (!snapshot) {
    await reply({ response_type: 'ephemeral', text: ':hourglass: I am fetching the model list from Metis; try again in a few seconds.' });
    return;
  }
  try {
    const model = resolveModelName(
      snapshot.models.map((m) => m.name),
      wanted,
    );
    await deps.preferences.setChannelDefault(channel, model, command.user_id);
    const status = snapshot.models.find((m) => m.name === model)?.status;
    await reply({
      response_type: 'in_channel',
      text: `<@${command.user_id}> set this channel's default model to \`${model}\`${status && status !== 'Live' ? ` (${status} on Metis right now)` : ''}.`,
    });
  } catch (err) {
    if (!isMetisError(err)) throw err;
    await reply({ response_type: 'ephemeral', text: userMessageFor(err) });
  }
}
