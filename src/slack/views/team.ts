/**
 * What `/metis usage`, `/metis admin` and the App Home tab show.
 */
import type { SnapshotView } from '../../models/catalog.ts';
import type { AdminStatus } from '../../team/admin-status.ts';
import type { UsageTotals } from '../../team/usage.ts';
import { inertEcho } from '../../inert-text.ts';
import { WORDS } from '../../words.ts';

export interface PersonalUsage {
  today: UsageTotals;
  month: UsageTotals;
  limits: { requestsPerHour: number; tokensPerDay: number };
  standing: { requestsThisHour: number; tokensToday: number };
}

const n = (x: number) => x.toLocaleString('en-US');
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });

function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function totalsLine(t: UsageTotals): string {
  return `${n(t.requests)} questions · ${n(t.promptTokens)} prompt + ${n(t.completionTokens)} answer tokens`;
}

export function usageText(u: PersonalUsage): string {
  const lines = [`*Your Metis usage*`, `Today: ${totalsLine(u.today)}`, `This month: ${totalsLine(u.month)}`];
  const limits: string[] = [];
  if (u.limits.requestsPerHour > 0) limits.push(`${u.standing.requestsThisHour} of ${u.limits.requestsPerHour} questions this hour`);
  if (u.limits.tokensPerDay > 0) limits.push(`${n(u.standing.tokensToday)} of ${n(u.limits.tokensPerDay)} tokens today`);
  lines.push(limits.length ? `Limits: ${limits.join('; ')}.` : WORDS.no_personal_limits());
  return lines.join('\n');
}

export function teamUsageText(top: { users: TopRow[]; channels: TopRow[]; models: TopRow[] }, all: UsageTotals): string {
  const list = (rows: TopRow[], label: (id: string) => string) =>
    rows.length ? rows.map((r, i) => `${i + 1}. ${label(r.id)}: ${totalsLine(r.totals)}`).join('\n') : '_none yet_';
  return [
    `*Team usage this month*: ${totalsLine(all)}`,
    `*Top people*\n${list(top.users, (id) => `<@${id}>`)}`,
    `*Top channels*\n${list(top.channels, (id) => `<#${id}>`)}`,
    `*Top models*\n${list(top.models, (id) => `\`${inertEcho(id)}\``)}`,
  ].join('\n\n');
}

export interface TopRow {
  id: string;
  totals: UsageTotals;
}

export function adminText(s: AdminStatus, now = Date.now()): string {
  const access = s.access.problem
    ? WORDS.admin_access_problem({ since: minutes(now - s.access.problem.since), detail: s.access.problem.detail, fix: s.access.problem.fix })
    : WORDS.admin_access_working({ mode: s.access.mode, ...(s.access.expiresAt ? { expiresIn: minutes(s.access.expiresAt - now) } : {}) });
  const q = s.queue;
  return [
    '*Metis bot status*',
    `*Access:* ${access}`,
    `*Queue:* ${q.waiting} waiting, ${q.running} running, ${q.parked} parked (waiting for a model, access or their turn)${q.oldestWaitMs !== undefined ? `; oldest waiting ${minutes(q.oldestWaitMs)}` : ''}`,
    `*Workers alive:* ${s.workers}`,
    `*Paused:* ${s.paused ? `yes, by <@${s.paused.by}> ${minutes(now - s.paused.at)} ago (\`/metis admin resume\`)` : 'no (`/metis admin pause` holds new answers)'}`,
    `*Gateway budget:* ${s.budget.requestsPerSecond > 0 ? `${s.budget.requestsPerSecond} requests/s` : 'no request budget'}; ${s.budget.tokensPerMinute > 0 ? `${n(s.budget.tokensPerMinute)} tokens/min per model` : 'no token budget'}`,
    ...(s.defaultModelProblem
      ? [
          `*Default model:* ${WORDS.default_model_setting_wrong({ configured: s.defaultModelProblem.configured, suggestion: s.defaultModelProblem.suggestion })}`,
        ]
      : []),
    WORDS.feedback_counts({ rows: s.feedback ?? [] }),
  ].join('\n');
}

export function homeView(opts: {
  snapshot?: SnapshotView;
  usage: PersonalUsage;
  defaults: Record<string, string>;
  admin?: AdminStatus;
}): { type: 'home'; blocks: object[] } {
  const live = opts.snapshot?.models.filter((m) => m.status === 'Live').map((m) => `\`${inertEcho(m.name)}\``) ?? [];
  const blocks: object[] = [
    header('Metis'),
    section(
      opts.snapshot
        ? `*Live models* (${live.length} of ${opts.snapshot.models.length}): ${live.join(', ') || '_none right now_'}\nEverything: \`/metis-models\``
        : WORDS.home_models_not_fetched(),
    ),
    section(usageText(opts.usage)),
    section(
      Object.keys(opts.defaults).length
        ? `*Channel defaults you set*\n${Object.entries(opts.defaults)
            .map(([c, m]) => `<#${c}>: \`${inertEcho(m)}\``)
            .join('\n')}`
        : WORDS.home_no_defaults(),
    ),
  ];
  if (opts.admin) blocks.push({ type: 'divider' }, section(adminText(opts.admin)));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: WORDS.home_ask_hint() }] });
  return { type: 'home', blocks };
}
