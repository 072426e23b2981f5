import type { SlashCommand } from '@slack/bolt';
import { adminText } from '../../views/team.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';

/** `/metis admin [pause|resume]`: the bot's state for its administrators, and a pause switch. */
export async function adminSubcommand(deps: ListenerDeps, command: SlashCommand, words: string[], reply: CommandReply): Promise<void> {
  if (!deps.team.admins.includes(command.user_id)) {
    await reply({ response_type: 'ephemeral', text: ':lock: Only the bot\'s administrators (METIS_ADMIN_USERS) can use `/metis admin`.' });
    return;
  }
  const action = words[0]?.toLowerCase();
  if (action === 'pause') {
    await deps.team.control.pause(command.user_id);
    deps.logger.warn({ by: command.user_id }, 'answers paused by an admin');
    await reply({ response_type: 'ephemeral', text: ':double_vertical_bar: Paused: new questions wait in the queue (each is told so) until `/metis admin resume`.' });
    return;
  }
  if (action === 'resume') {
    await deps.team.control.resume();
    deps.logger.warn({ by: command.user_id }, 'answers resumed by an admin');
    await reply({ response_type: 'ephemeral', text: ':arrow_forward: Resumed: waiting questions are being answered.' });
    return;
  }
  await reply({ response_type: 'ephemeral', text: adminText(await deps.team.adminStatus()) });
}
