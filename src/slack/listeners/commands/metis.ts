import { helpMessage } from '../../views/models.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandArgs, CommandReply } from './command-reply.ts';
import { adminSubcommand } from './metis-admin.ts';
import { modelSubcommand } from './metis-model.ts';
import { usageSubcommand } from './metis-usage.ts';

/** `/metis`: help, and the subcommands `model`, `usage` and `admin`. */
export function metisCommand(deps: ListenerDeps) {
  return async (args: CommandArgs) => {
    const { command, ack } = args;
    const reply: CommandReply = async (r) => {
      await ack(r as Parameters<typeof ack>[0]);
    };
    const [sub, ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    switch (sub?.toLowerCase()) {
      case 'model':
        return modelSubcommand(deps, command, rest, reply);
      case 'usage':
        return usageSubcommand(deps, command, rest, reply);
      case 'admin':
        return adminSubcommand(deps, command, rest, reply);
      default: {
        const help = helpMessage({ channelDefault: await deps.preferences.channelDefault(command.channel_id), fallbackModel: deps.defaultModel });
        const prefix = sub && sub.toLowerCase() !== 'help' ? `:grey_question: I don't know \`/metis ${sub.slice(0, 40)}\`.\n` : '';
        await reply({ response_type: 'ephemeral', text: `${prefix}${help.text}` });
      }
    }
  };
}
