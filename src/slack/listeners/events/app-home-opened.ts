import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView } from '../../views/team.ts';
import { personalUsage } from '../commands/metis-usage.ts';
import type { ListenerDeps } from '../types.ts';

/**
 * The App Home tab: Live models, my usage and limits, the channel defaults I set; for admins, the bot's state.
 * The Messages tab (an agent's): suggested prompts.
 */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab === 'messages') {
      await deps.messagesTabOpened(event.user, event.channel);
      return;
    }
    if (event.tab !== 'home') return;
    const isAdmin = deps.team.admins.includes(event.user);
    const [snapshot, usage, defaults, admin] = await Promise.all([
      deps.models.lastKnown(), // what Redis holds: opening a tab never waits on the gateway
      personalUsage(deps, event.user),
      deps.preferences.defaultsSetBy(event.user),
      isAdmin ? deps.team.adminStatus() : Promise.resolve(undefined),
    ]);
    await deps.slack.views.publish({ user_id: event.user, view: homeView({ snapshot, usage, defaults, admin }) as Parameters<typeof deps.slack.views.publish>[0]['view'] });
  };
}
