/**
 * The arguments of a slash-command listener and the one way its subcommands
 * answer (through the acknowledgement), shared by `/metis` and its subcommands.
 */
import type { AllMiddlewareArgs, RespondArguments, SlackCommandMiddlewareArgs } from '@slack/bolt';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
/** Named apart from the answer's `Reply` (reply/): this one answers a slash command. */
export type CommandReply = (response: RespondArguments & { response_type?: 'ephemeral' | 'in_channel' }) => Promise<void>;
