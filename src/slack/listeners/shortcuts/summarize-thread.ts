/**
 * "Summarize thread" (slack.md §4.2): queues a summary of the thread the
 * shortcut was used on, answered in that thread. The thread is the context
 * and the question is a fixed instruction; the person who asked for it is
 * its asker (their replies there are follow-ups).
 */
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { userMessageFor } from '../../../errors.ts';
import type { ListenerDeps } from '../types.ts';
import { WORDS } from '../../../words.ts';

export function summarizeShortcut(deps: Pick<ListenerDeps, 'enqueue' | 'logger'>) {
  return async ({ shortcut, ack, respond }: SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs) => {
    await ack();
    try {
      await deps.enqueue({
        source: 'summary',
        teamId: shortcut.team?.id ?? shortcut.user.team_id,
        channel: shortcut.channel.id,
        user: shortcut.user.id,
        text: WORDS.summary_instruction(),
        // Each use is its own request; the thread is read up to this moment.
        ts: shortcut.action_ts,
        threadTs: shortcut.message.thread_ts ?? shortcut.message_ts,
        inThread: true,
        receivedAt: Date.now(),
      });
    } catch (err) {
      deps.logger.warn({ err, channel: shortcut.channel.id, user: shortcut.user.id }, 'could not queue a thread summary');
      await respond({ response_type: 'ephemeral', text: userMessageFor(err) });
    }
  };
}
