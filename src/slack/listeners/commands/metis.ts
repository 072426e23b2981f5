import { fallbackModelText, helpMessage } from '../../views/models.ts';
import { acknowledgedFirst } from '../acknowledged-first.ts';
import type { ListenerDeps } from '../types.ts';
import { type CommandArgs, commandAsker } from './command-reply.ts';
import { adminSubcommand } from './metis-admin.ts';
import { instructionsSubcommand } from './metis-instructions.ts';
import { modelSubcommand } from './metis-model.ts';
import { usageSubcommand } from './metis-usage.ts';
import { WORDS } from '../../../words.ts';

/** `/metis`: help, and the subcommands `model`, `instructions`, `usage` and `admin`. */
export function metisCommand(deps: ListenerDeps) {
  return acknowledgedFirst<CommandArgs>(deps, { what: '/metis', asker: commandAsker, allowedOnly: true }, async ({ command }, reply) => {
    const [sub, ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    switch (sub?.toLowerCase()) {
      case 'model':
        return modelSubcommand(deps, command, rest, reply);
      case 'instructions':
        return instructionsSubcommand(deps, command, reply);
      case 'usage':
        return usageSubcommand(deps, command, rest, reply);
      case 'admin':
        return adminSubcommand(deps, command, rest, reply);
      default: {
        const [channelDefault, snapshot, instructions] = await Promise.all([
          deps.preferences.channelDefault(command.channel_id),
          deps.models.read(),
          deps.channelInstructions.get(command.channel_id),
        ]);
        const help = helpMessage({ channelDefault, fallback: fallbackModelText(deps.defaultModel, snapshot?.models.map((m) => m.name)), instructions });
        const prefix = sub && sub.toLowerCase() !== 'help' ? `${WORDS.unknown_subcommand({ sub })}\n` : '';
        await reply({ response_type: 'ephemeral', text: `${prefix}${help.text}` });
      }
    }
  });
}
