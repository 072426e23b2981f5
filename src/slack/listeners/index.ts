import type { App } from '@slack/bolt';
import { registerActionListeners } from './actions/index.ts';
import { registerCommandListeners } from './commands/index.ts';
import { registerEventListeners } from './events/index.ts';
import { registerShortcutListeners } from './shortcuts/index.ts';
import type { ListenerDeps } from './types.ts';

/** Every Slack listener, by surface. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  registerEventListeners(app, deps);
  registerCommandListeners(app, deps);
  registerActionListeners(app, deps);
  registerShortcutListeners(app, deps);
}
