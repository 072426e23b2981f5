import type { SlashCommand } from '@slack/bolt';
import { monthDays, utcDay } from '../../../team/usage.ts';
import { type PersonalUsage, teamUsageText, usageText } from '../../views/team.ts';
import type { ListenerDeps } from '../types.ts';
import type { CommandReply } from './command-reply.ts';
import { WORDS } from '../../../words.ts';

/** A person's usage today and this month, with their limits. */
export async function personalUsage(deps: ListenerDeps, user: string): Promise<PersonalUsage> {
  const { usage, limits, limitSettings } = deps.team;
  const [today, month, standing] = await Promise.all([
    usage.totals(`u:${user}`, [utcDay()]),
    usage.totals(`u:${user}`, monthDays()),
    limits.standing(user),
  ]);
  return { today, month, limits: limitSettings, standing };
}

/** `/metis usage`: mine; `/metis usage team`: the whole team's (admins only). */
export async function usageSubcommand(deps: ListenerDeps, command: SlashCommand, words: string[], reply: CommandReply): Promise<void> {
  if (words[0]?.toLowerCase() === 'team') {
    if (!deps.team.admins.includes(command.user_id)) {
      await reply({ response_type: 'ephemeral', text: WORDS.team_usage_admin_only() });
      return;
    }
    const days = monthDays();
    const { usage } = deps.team;
    const [users, channels, models, all] = await Promise.all([usage.top('u', days), usage.top('c', days), usage.top('m', days), usage.totals('all', days)]);
    await reply({ response_type: 'ephemeral', text: teamUsageText({ users, channels, models }, all) });
    return;
  }
  await reply({ response_type: 'ephemeral', text: usageText(await personalUsage(deps, command.user_id)) });
}
