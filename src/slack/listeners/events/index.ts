import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../types.ts';
import { agentSessionStopped } from './agent-session-stopped.ts';
import { appHomeOpened } from './app-home-opened.ts';
import { appMention } from './app-mention.ts';
import { directMessage } from './direct-message.ts';
import { threadFollowUp } from './thread-follow-up.ts';

export function registerEventListeners(app: App, deps: ListenerDeps): void {
  app.event('app_mention', appMention(deps.enqueue));
  app.message(directMessage(deps.enqueue));
  app.message(threadFollowUp(deps));
  app.event('app_home_opened', appHomeOpened(deps));
  // Not in Bolt's event types yet (slack.md §4.4), so matched by name.
  app.event(/^agent_session_stopped$/, agentSessionStopped(deps) as never);
}
