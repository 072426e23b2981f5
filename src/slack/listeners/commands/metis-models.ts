import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/choose-model.ts';
import { modelDetailMessage, modelListMessage } from '../../views/models.ts';
import type { ListenerDeps } from '../types.ts';

/**
 * `/metis-models [public] [model]`: every model with its status, or one
 * model's detail. Answered in the acknowledgement, within Slack's 3 s, from
 * the shared status (refreshed by the workers when stale).
 */
export function metisModelsCommand(deps: ListenerDeps) {
  return async ({ command, ack }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    const isPublic = words[0]?.toLowerCase() === 'public';
    if (isPublic) words.shift();
    const responseType = isPublic ? 'in_channel' : 'ephemeral';
    const [snapshot, channelDefault] = await Promise.all([deps.models.read(), deps.preferences.channelDefault(command.channel_id)]);
    if (!snapshot) {
      await ack({ response_type: 'ephemeral', text: ':hourglass: I am fetching the model list from Metis for the first time; try again in a few seconds.' });
      return;
    }
    if (words.length === 0) {
      await ack({ response_type: responseType, ...modelListMessage(snapshot, { channelDefault }) });
      return;
    }
    try {
      const name = resolveModelName(
        snapshot.models.map((m) => m.name),
        words.join(' '),
      );
      const model = snapshot.models.find((m) => m.name === name);
      if (model) await ack({ response_type: responseType, ...modelDetailMessage(model, snapshot, { channelDefault }) });
    } catch (err) {
      if (!isMetisError(err)) throw err;
      await ack({ response_type: 'ephemeral', text: userMessageFor(err) });
    }
  };
}
