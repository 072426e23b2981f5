import type { SlashCommand } from '@slack/bolt';
import { adminText } from '../../views/team.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';
import { WORDS } from '../../../words.ts';

/** `/metis admin [pause|resume]`: the bot's state for its administrators, and a pause switch. */
export async function adminSubcommand(deps: ListenerDeps, command: SlashCommand, words: string[], reply: CommandReply): Promise<void> {
  if (!deps.team.admins.includes(command.user_id)) {
    await reply({ response_type: 'ephemeral', text: WORDS.admin_only() });
    return;
  }
  const action = words[0]?.toLowerCase();
  if (action === 'pause') {
    await deps.team.control.pause(command.user_id);
    deps.logger.warn({ by: command.user_id }, 'answers paused by an admin');
    await reply({ response_type: 'ephemeral', text: WORDS.paused_by_admin() });
    return;
  }
  if (action === 'resume') {
    await deps.team.control.resume();
    deps.logger.warn({ by: command.user_id }, 'answers resumed by an admin');
    await reply({ response_type: 'ephemeral', text: WORDS.resumed_by_admin() });
    return;
  }
  await reply({ response_type: 'ephemeral', text: adminText(await deps.team.adminStatus()) });
}
