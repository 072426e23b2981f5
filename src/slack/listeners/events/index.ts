import type { App } from '@slack/bolt';
import type { EnqueueAnswer } from '../types.ts';
import { appMention } from './app-mention.ts';
import { directMessage } from './direct-message.ts';

export function registerEventListeners(app: App, enqueue: EnqueueAnswer): void {
  app.event('app_mention', appMention(enqueue));
  app.message(directMessage(enqueue));
}
