import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Asker } from '../../../team/access-policy.ts';

/** Who clicked a button, and in which channel: what the allow lists are asked about. */
export function buttonClicker({ body }: SlackActionMiddlewareArgs<BlockButtonAction>): Asker | undefined {
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) return undefined;
  return { user: body.user.id, channel, teamId: body.user.team_id ?? body.team?.id ?? undefined };
}
