/**
 * Slash commands and buttons: Slack wants an acknowledgement within 3 s, and
 * some answers need Slack (users.info, user groups: up to 15 s) or the
 * workers (model status: up to 2 s). So these listeners acknowledge before
 * anything else and answer through response_url (valid 30 minutes, 5 uses;
 * each interaction answers once). Who may use the bot is checked before the
 * request is looked at, so people the allow lists refuse get the refusal and
 * nothing else.
 */
import type { RespondArguments, RespondFn } from '@slack/bolt';
import { userMessageFor } from '../../errors.ts';
import type { Asker } from '../../team/access-policy.ts';
import { refusalText } from '../../team/access-policy.ts';
import type { ListenerDeps } from './types.ts';

export type Reply = (response: RespondArguments & { response_type?: 'ephemeral' | 'in_channel' }) => Promise<void>;

interface Interaction {
  ack: () => Promise<void>;
  respond: RespondFn;
}

export interface AcknowledgedFirstOptions<A> {
  /** For the operator's log line. */
  what: string;
  /** Who is asking, and where; undefined when the payload does not say (nothing is answered). */
  asker: (args: A) => Asker | undefined;
  /** Check the allow lists first (false only where the handler does a stricter check of its own). */
  allowedOnly: boolean;
}

export function acknowledgedFirst<A extends Interaction>(
  deps: ListenerDeps,
  opts: AcknowledgedFirstOptions<A>,
  handler: (args: A, reply: Reply, asker: Asker) => Promise<void>,
) {
  return async (args: A): Promise<void> => {
    await args.ack();
    const reply: Reply = async (r) => {
      await args.respond({ replace_original: false, ...r });
    };
    const asker = opts.asker(args);
    if (!asker) return;
    try {
      if (opts.allowedOnly) {
        const decision = await deps.team.policy.check(asker);
        if (!decision.allowed) {
          await reply({ response_type: 'ephemeral', text: refusalText(decision.reason) });
          return;
        }
      }
      await handler(args, reply, asker);
    } catch (err) {
      deps.logger.warn({ err, what: opts.what, user: asker.user, channel: asker.channel }, 'could not answer a slash command or button');
      await reply({ response_type: 'ephemeral', text: userMessageFor(err) }).catch((e: unknown) =>
        deps.logger.warn({ err: e, what: opts.what, user: asker.user }, 'could not answer through response_url'),
      );
    }
  };
}
