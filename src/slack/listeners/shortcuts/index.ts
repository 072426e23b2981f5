import type { App, MessageShortcut, ViewSubmitAction } from '@slack/bolt';
import { ASK_MODAL, ASK_SHORTCUT, SUMMARY_SHORTCUT } from '../../views/ask-modal.ts';
import type { ListenerDeps } from '../types.ts';
import { askShortcut, askSubmitted } from './ask-about-message.ts';
import { summarizeShortcut } from './summarize-thread.ts';

/** The message shortcuts manifest.yml declares, and the modal one of them opens. */
export function registerShortcutListeners(app: App, deps: ListenerDeps): void {
  app.shortcut<MessageShortcut>({ callback_id: ASK_SHORTCUT, type: 'message_action' }, askShortcut(deps));
  app.view<ViewSubmitAction>({ callback_id: ASK_MODAL, type: 'view_submission' }, askSubmitted(deps));
  app.shortcut<MessageShortcut>({ callback_id: SUMMARY_SHORTCUT, type: 'message_action' }, summarizeShortcut(deps));
}
