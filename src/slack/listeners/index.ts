import type { App } from '@slack/bolt';
import { registerEventListeners } from './events/index.ts';
import type { EnqueueAnswer } from './types.ts';

/** Every Slack listener, by surface. */
export function registerListeners(app: App, deps: { enqueue: EnqueueAnswer }): void {
  registerEventListeners(app, deps.enqueue);
}
