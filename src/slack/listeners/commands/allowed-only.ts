import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { refusalText } from '../../../team/access-policy.ts';
import type { ListenerDeps } from '../types.ts';

/** Listener middleware: people the allow lists refuse get a polite refusal, and the command goes no further. */
export function allowedOnly(deps: ListenerDeps) {
  return async ({ command, ack, next }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const decision = await deps.team.policy.check({ user: command.user_id, channel: command.channel_id, teamId: command.team_id });
    if (!decision.allowed) {
      await ack({ response_type: 'ephemeral', text: refusalText(decision.reason) });
      return;
    }
    await next();
  };
}
