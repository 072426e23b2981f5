import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/choose-model.ts';
import { helpMessage } from '../../views/models.ts';
import type { ListenerDeps } from '../types.ts';

/**
 * `/metis`: help; `/metis model [name|clear]`: show, set or clear the
 * channel's default model. A new default is announced in the channel, since
 * it changes what everyone there gets.
 */
export function metisCommand(deps: ListenerDeps) {
  return async ({ command, ack }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const [sub, ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    const channel = command.channel_id;
    const current = await deps.preferences.channelDefault(channel);
    if (sub?.toLowerCase() !== 'model') {
      const help = helpMessage({ channelDefault: current, fallbackModel: deps.defaultModel });
      const prefix = sub && sub.toLowerCase() !== 'help' ? `:grey_question: I don't know \`/metis ${sub}\`.\n` : '';
      await ack({ response_type: 'ephemeral', text: `${prefix}${help.text}` });
      return;
    }
    const wanted = rest.join(' ');
    if (!wanted) {
      await ack({
        response_type: 'ephemeral',
        text: current
          ? `This channel's default model is \`${current}\`. Change it with \`/metis model <name>\`, or \`/metis model clear\`.`
          : `This channel has no default model; I use ${deps.defaultModel ? `\`${deps.defaultModel}\`` : 'the first Live model'}. Set one with \`/metis model <name>\`.`,
      });
      return;
    }
    if (['clear', 'none', 'reset'].includes(wanted.toLowerCase())) {
      await deps.preferences.setChannelDefault(channel, undefined);
      await ack({ response_type: 'in_channel', text: `<@${command.user_id}> cleared this channel's default model.` });
      return;
    }
    const snapshot = await deps.models.read();
    if (!snapshot) {
      await ack({ response_type: 'ephemeral', text: ':hourglass: I am fetching the model list from Metis; try again in a few seconds.' });
      return;
    }
    try {
      const model = resolveModelName(
        snapshot.models.map((m) => m.name),
        wanted,
      );
      await deps.preferences.setChannelDefault(channel, model);
      const status = snapshot.models.find((m) => m.name === model)?.status;
      await ack({
        response_type: 'in_channel',
        text: `<@${command.user_id}> set this channel's default model to \`${model}\`${status && status !== 'Live' ? ` (${status} on Metis right now)` : ''}.`,
      });
    } catch (err) {
      if (!isMetisError(err)) throw err;
      await ack({ response_type: 'ephemeral', text: userMessageFor(err) });
    }
  };
}
