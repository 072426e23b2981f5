/**
 * What `/metis`, `/metis-models` and the subcommands share: a command
 * listener's arguments, who is asking, and the one way a command answers
 * (after the acknowledgement: see acknowledged-first.ts).
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Reply } from '../acknowledged-first.ts';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
/** Named apart from the answer's `Reply` (reply/): this one answers a slash command. */
export type CommandReply = Reply;

/** Who runs a slash command, and where: what the allow lists are asked about. */
export const commandAsker = ({ command }: CommandArgs) => ({ user: command.user_id, channel: command.channel_id, teamId: command.team_id });
