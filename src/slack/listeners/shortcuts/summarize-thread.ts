/**
 * "Summarize thread" (slack.md §4.2): queues a summary of the thread the
 * shortcut was used on, answered in that thread. The thread is the context
 * and the question is a fixed instruction; the person who asked for it is
 * its asker (their replies there are follow-ups). Slack offers the shortcut
 * in channels the bot is not in, where it could neither read nor answer:
 * one read of the message first tells the person so, privately.
 */
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { userMessageFor } from '../../../errors.ts';
import { fetchMessage } from '../../../reply/message-lookup.ts';
import { CONVERSATION_GONE, slackFailure } from '../../../reply/web-client.ts';
import type { ListenerDeps } from '../types.ts';
import { WORDS } from '../../../words.ts';

export function summarizeShortcut(deps: Pick<ListenerDeps, 'slack' | 'enqueue' | 'logger'>) {
  return async ({ shortcut, ack, respond }: SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs) => {
    await ack();
    const channel = shortcut.channel.id;
    const threadTs = shortcut.message.thread_ts ?? shortcut.message_ts;
    try {
      await fetchMessage(deps.slack, channel, threadTs, threadTs);
    } catch (err) {
      if (CONVERSATION_GONE.has(slackFailure(err)?.error ?? '')) {
        await respond({ response_type: 'ephemeral', text: WORDS.shortcut_not_in_channel() });
        return;
      }
      // Anything else (Slack busy) is for the worker to meet and report in the thread.
    }
    try {
      await deps.enqueue({
        source: 'summary',
        teamId: shortcut.team?.id ?? shortcut.user.team_id,
        channel,
        user: shortcut.user.id,
        text: WORDS.summary_instruction(),
        // Each use is its own request; the thread is read up to this moment.
        ts: shortcut.action_ts,
        threadTs,
        inThread: true,
        receivedAt: Date.now(),
      });
    } catch (err) {
      deps.logger.warn({ err, channel, user: shortcut.user.id }, 'could not queue a thread summary');
      await respond({ response_type: 'ephemeral', text: userMessageFor(err) });
    }
  };
}
