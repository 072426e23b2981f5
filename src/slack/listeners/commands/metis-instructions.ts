import type { SlashCommand } from '@slack/bolt';
import { INSTRUCTIONS_MAX_CHARS } from '../../../team/channel-instructions.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';
import { WORDS } from '../../../words.ts';

/**
 * `/metis instructions [text|clear]`: show, set or clear the channel's
 * instructions for the model. Whoever may set the channel's default model may
 * set these (anyone the allow lists let use the bot), and for the same reason
 * a change is announced in the channel: it changes every answer there.
 */
export async function instructionsSubcommand(deps: ListenerDeps, command: SlashCommand, reply: CommandReply): Promise<void> {
  const channel = command.channel_id;
  // The text as typed after the subcommand (its line breaks kept), not the words /metis split it into.
  const text = command.text.trim().replace(/^\S+\s*/, '').trim();
  if (!text) {
    const current = await deps.channelInstructions.get(channel);
    await reply({ response_type: 'ephemeral', text: current ? WORDS.instructions_here(current) : WORDS.instructions_none() });
    return;
  }
  if (['clear', 'none', 'reset'].includes(text.toLowerCase())) {
    const had = await deps.channelInstructions.clear(channel);
    await reply(had ? { response_type: 'in_channel', text: WORDS.instructions_cleared({ user: command.user_id }) } : { response_type: 'ephemeral', text: WORDS.instructions_none() });
    return;
  }
  if (text.length > INSTRUCTIONS_MAX_CHARS) {
    await reply({ response_type: 'ephemeral', text: WORDS.instructions_too_long({ chars: text.length, max: INSTRUCTIONS_MAX_CHARS }) });
    return;
  }
  await deps.channelInstructions.set(channel, text, command.user_id);
  await reply({ response_type: 'in_channel', text: WORDS.instructions_set({ user: command.user_id, text }) });
}
