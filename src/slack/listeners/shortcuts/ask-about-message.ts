/**
 * "Ask Metis about this" (slack.md §4.2): the shortcut opens a modal at once
 * (its trigger id lasts 3 s, so only Redis is read first); the submission
 * reads the message from Slack and queues a question whose text is the
 * person's question and that message, answered in the message's thread with
 * the model picked in the menu. Each use is a request of its own (keyed by
 * the shortcut's action_ts), so asking twice about one message asks twice.
 */
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { userMessageFor } from '../../../errors.ts';
import { fetchMessage } from '../../../reply/message-lookup.ts';
import { CONVERSATION_GONE, slackFailure } from '../../../reply/web-client.ts';
import { askModal, QUESTION_BLOCK, readAskModal } from '../../views/ask-modal.ts';
import { sortedModels } from '../../views/models.ts';
import type { ListenerDeps } from '../types.ts';
import { WORDS } from '../../../words.ts';

export function askShortcut(deps: Pick<ListenerDeps, 'slack' | 'models'>) {
  return async ({ shortcut, ack }: SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs) => {
    await ack();
    const live = sortedModels((await deps.models.lastKnown())?.models ?? [])
      .filter((m) => m.status === 'Live')
      .map((m) => m.name);
    const about = {
      channel: shortcut.channel.id,
      messageTs: shortcut.message_ts,
      threadTs: shortcut.message.thread_ts ?? shortcut.message_ts,
      actionTs: shortcut.action_ts,
    };
    await deps.slack.views.open({ trigger_id: shortcut.trigger_id, view: askModal(about, live) as unknown as Parameters<typeof deps.slack.views.open>[0]['view'] });
  };
}

const fieldError = (text: string) => ({ response_action: 'errors' as const, errors: { [QUESTION_BLOCK]: text } });

export function askSubmitted(deps: Pick<ListenerDeps, 'slack' | 'enqueue' | 'logger'>) {
  return async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const form = readAskModal(view);
    if (!form) {
      deps.logger.warn({ user: body.user.id }, 'a modal submission without the metadata the bot wrote; closed it');
      await ack();
      return;
    }
    if (!form.question) {
      await ack(fieldError(WORDS.ask_question_missing()));
      return;
    }
    const { about } = form;
    let message: Awaited<ReturnType<typeof fetchMessage>>;
    try {
      message = await fetchMessage(deps.slack, about.channel, about.threadTs, about.messageTs);
    } catch (err) {
      const gone = CONVERSATION_GONE.has(slackFailure(err)?.error ?? '');
      if (!gone) deps.logger.warn({ err, channel: about.channel }, 'could not read the message a shortcut was used on');
      await ack(fieldError(gone ? WORDS.shortcut_not_in_channel() : userMessageFor(err)));
      return;
    }
    if (!message) {
      await ack(fieldError(WORDS.shortcut_message_gone()));
      return;
    }
    try {
      await deps.enqueue({
        source: 'shortcut',
        teamId: body.team?.id ?? body.user.team_id,
        channel: about.channel,
        user: body.user.id,
        text: WORDS.ask_about_message({ question: form.question, author: message.user, text: message.text }),
        ts: about.actionTs,
        threadTs: about.threadTs,
        inThread: true,
        ...(form.model ? { chosenModel: form.model } : {}),
        receivedAt: Date.now(),
      });
    } catch (err) {
      await ack(fieldError(userMessageFor(err)));
      return;
    }
    await ack();
  };
}
