/**
 * Tells the admins (METIS_ADMIN_USERS by DM, and METIS_ALERT_CHANNEL, which
 * the bot must have been invited to) when Metis access needs a person, with
 * the exact cause and the fix, and when it works again. Called once per
 * incident by AccessHealth.
 */
import type { WebClient } from '@slack/web-api';
import type { AccessNotifier, AccessProblem } from '../auth/access-health.ts';
import type { LoginLapseNotifier } from '../auth/login-lapse.ts';
import type { Logger } from '../logger.ts';
import { markdownMessage } from './answer-message.ts';

export function slackAccessNotifier(
  client: WebClient,
  admin: { users: string[]; alertChannel?: string; accessWaitMs: number },
  logger: Logger,
): AccessNotifier & LoginLapseNotifier {
  const send = async (markdown: string) => {
    // A user id as the channel posts in the bot's DM with that person (its Messages tab): chat:write is
    // enough, where conversations.open would need im:write, which the manifest does not ask for.
    const targets = [...(admin.alertChannel ? [admin.alertChannel] : []), ...admin.users];
    if (targets.length === 0) {
      logger.warn('no METIS_ADMIN_USERS or METIS_ALERT_CHANNEL configured: the access alert is only in this log');
      return;
    }
    await Promise.all(
      targets.map((channel) =>
        client.chat.postMessage({ channel, ...markdownMessage(markdown) } as Parameters<WebClient['chat']['postMessage']>[0]).catch((err: unknown) => logger.warn({ channel, err }, 'cannot post the access alert')),
      ),
    );
  };
  const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));
  return {
    needsPerson: (p: AccessProblem) =>
      send(
        [
          ':rotating_light: **Metis access needs an administrator.**',
          `**Cause:** ${p.detail}`,
          `**Fix:** ${p.fix}`,
          `Until then, questions wait up to ${minutes(admin.accessWaitMs)} min and are answered as soon as access works.`,
        ].join('\n'),
      ),
    recovered: (p: AccessProblem) =>
      send(`:white_check_mark: **Metis access works again** (it was down ${minutes(Date.now() - p.since)} min: ${p.code}).`),
    reloginDue: ({ loggedInAt, dueAt }) => {
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const daysLeft = Math.max(0, Math.ceil((dueAt - Date.now()) / 86_400_000));
      return send(
        [
          ':hourglass: **The Metis login this bot uses is due for renewal.**',
          `ALCF asks for a new login periodically; this one was made ${day(loggedInAt)} and lapses about ${day(dueAt)} (in ${daysLeft} day${daysLeft === 1 ? '' : 's'}).`,
          '**Fix:** run `metis-bot auth login` (or `metis-bot auth import FILE`) before then, so questions keep being answered.',
        ].join('\n'),
      );
    },
  };
}
