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
import { markdownMessage } from './message-builders.ts';
import { WORDS } from '../words.ts';

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
      send(WORDS.access_needs_person({ detail: p.detail, fix: p.fix, waitMinutes: minutes(admin.accessWaitMs) })),
    recovered: (p: AccessProblem) =>
      send(WORDS.access_recovered({ downMinutes: minutes(Date.now() - p.since), code: p.code })),
    reloginDue: ({ loggedInAt, dueAt }) => {
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const daysLeft = Math.max(0, Math.ceil((dueAt - Date.now()) / 86_400_000));
      return send(WORDS.relogin_due({ madeOn: day(loggedInAt), lapsesOn: day(dueAt), daysLeft }));
    },
  };
}
