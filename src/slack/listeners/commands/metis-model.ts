import { fallbackModelText } from '../../views/models.ts';
import type { SlashCommand } from '@slack/bolt';
import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/model-names.ts';
import { inertEcho } from '../../../inert-text.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';

/**
 * What the channel is told when someone sets its default model (with
 * `/metis model` or the "Use in this channel" button). `model` is a name from
 * the catalog, never the person's own words.
 */
export function channelDefaultSetText(user: string, model: string, status: string | undefined): string {
  return `<@${user}> set this channel's default model to \`${inertEcho(model)}\`${status && status !== 'Live' ? ` (${status} on Metis right now)` : ''}.`;
}

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
        ? `This channel's default model is \`${inertEcho(current)}\`. Change it with \`/metis model <name>\`, or \`/metis model clear\`.`
        : `This channel has no default model; I use ${fallbackModelText(deps.defaultModel, offered)}. Set one with \`/metis model <name>\`.`,
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
    await reply({ response_type: 'in_channel', text: channelDefaultSetText(command.user_id, model, status) });
  } catch (err) {
    if (!isMetisError(err)) throw err;
    await reply({ response_type: 'ephemeral', text: userMessageFor(err) });
  }
}
