import { isMetisError, userMessageFor } from '../../../errors.ts';
import { resolveModelName } from '../../../models/model-names.ts';
import { modelDetailMessage, modelListMessage } from '../../views/models.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { type CommandArgs, commandAsker } from './command-reply.ts';
import { WORDS } from '../../../words.ts';

/**
 * `/metis-models [public] [model]`: every model with its status, or one
 * model's detail, from the shared status (refreshed by the workers when
 * stale; waiting for that is why it answers after the acknowledgement).
 */
export function metisModelsCommand(deps: ListenerDeps) {
  return acknowledgedFirst<CommandArgs>(deps, { what: '/metis-models', asker: commandAsker, allowedOnly: true }, async ({ command }, reply) => {
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    const isPublic = words[0]?.toLowerCase() === 'public';
    if (isPublic) words.shift();
    const responseType = isPublic ? 'in_channel' : 'ephemeral';
    const [snapshot, channelDefault] = await Promise.all([deps.models.read(), deps.preferences.channelDefault(command.channel_id)]);
    if (!snapshot) {
      await reply({ response_type: 'ephemeral', text: WORDS.models_loading_first() });
      return;
    }
    if (words.length === 0) {
      await reply({ response_type: responseType, ...modelListMessage(snapshot, { channelDefault }) });
      return;
    }
    try {
      const name = resolveModelName(
        snapshot.models.map((m) => m.name),
        words.join(' '),
      );
      const model = snapshot.models.find((m) => m.name === name);
      if (model) await reply({ response_type: responseType, ...modelDetailMessage(model, snapshot, { channelDefault }) });
    } catch (err) {
      if (!isMetisError(err)) throw err;
      await reply({ response_type: 'ephemeral', text: userMessageFor(err) });
    }
  });
}
