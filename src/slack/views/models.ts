/**
 * What `/metis-models` and `/metis` show: model status at a glance (Live
 * first, a one-line summary), one model's detail, and help. Block Kit with a
 * plain `text` fallback; within Slack's limits (50 blocks, 3,000 characters
 * per section).
 */
import { defaultModelProblem } from '../../models/model-names.ts';
import type { ModelInfo, SnapshotView } from '../../models/catalog.ts';
import { inertEcho } from '../../inert-text.ts';
import { type ChannelInstructionsEntry, INSTRUCTIONS_MAX_CHARS } from '../../team/channel-instructions.ts';
import { WORDS } from '../../words.ts';

export const USE_MODEL_ACTION = 'use_model';

const ORDER = ['Live', 'Starting', 'Queued', 'Offline', undefined] as const;
const EMOJI: Record<string, string> = {
  Live: ':large_green_circle:',
  Starting: ':large_yellow_circle:',
  Queued: ':hourglass_flowing_sand:',
  Offline: ':white_circle:',
};
const MAX_BLOCKS = 50;
const SECTION_CHARS = 2900;

export interface SlackMessage {
  text: string;
  blocks: object[];
}

const section = (text: string, accessory?: object) => ({ type: 'section', text: { type: 'mrkdwn', text }, ...(accessory ? { accessory } : {}) });
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
/** Offered on Live models only: the button accepts nothing else (see the use-model action). */
const useButton = (model: ModelInfo) =>
  model.status === 'Live'
    ? {
        type: 'button',
        action_id: USE_MODEL_ACTION,
        text: { type: 'plain_text', text: 'Use in this channel' },
        value: model.name,
      }
    : undefined;

function age(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}

/** Live first, then Starting, Queued, Offline; by name within each. */
export function sortedModels(models: ModelInfo[]): ModelInfo[] {
  return [...models].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function statusWord(m: ModelInfo): string {
  return m.status ? `${EMOJI[m.status]} *${m.status}*` : WORDS.status_unknown();
}

function caveats(snapshot: SnapshotView, now: number): object[] {
  const out: object[] = [];
  if (snapshot.maintenance || snapshot.maintenanceNotice)
    out.push(section(WORDS.maintenance_heading({ notice: snapshot.maintenanceNotice })));
  if (snapshot.stale)
    out.push(context(WORDS.status_stale({ age: age(now - snapshot.fetchedAt) })));
  return out;
}

export function modelListMessage(snapshot: SnapshotView, opts: { channelDefault?: string; now?: number }): SlackMessage {
  const now = opts.now ?? Date.now();
  const models = sortedModels(snapshot.models);
  const liveCount = models.filter((m) => m.status === 'Live').length;
  const line = (m: ModelInfo) =>
    `${statusWord(m)} · \`${inertEcho(m.name)}\`${m.name === opts.channelDefault ? ' :pushpin: _default here_' : ''}${m.description ? ` — ${inertEcho(m.description)}` : ''}`;
  const blocks: object[] = [section(`*Metis models:* ${liveCount} of ${models.length} Live`), ...caveats(snapshot, now)];
  if (models.length <= MAX_BLOCKS - blocks.length - 1) {
    for (const m of models) blocks.push(section(line(m).slice(0, SECTION_CHARS), useButton(m)));
  } else {
    // Too many for one block each: list them in as few sections as fit.
    let chunk = '';
    for (const m of models) {
      const l = line(m);
      if (chunk.length + l.length + 1 > SECTION_CHARS) {
        blocks.push(section(chunk));
        chunk = '';
      }
      chunk += `${l}\n`;
    }
    if (chunk) blocks.push(section(chunk));
  }
  blocks.push(context(WORDS.models_list_hint()));
  const live = models.filter((m) => m.status === 'Live').map((m) => inertEcho(m.name));
  const text = `${liveCount} of ${models.length} Metis models Live${live.length ? `: ${live.join(', ')}` : ''}`;
  return { text, blocks: blocks.slice(0, MAX_BLOCKS) };
}

/** The shortest part of the name that picks this model alone, for the usage hint. */
function uniqueFragment(model: string, all: ModelInfo[]): string | undefined {
  return model
    .split(/[-_.]/)
    .filter((p) => p.length >= 3)
    .find((p) => all.filter((m) => m.name.toLowerCase().includes(p.toLowerCase())).length === 1);
}

export function modelDetailMessage(model: ModelInfo, snapshot: SnapshotView, opts: { channelDefault?: string; now?: number }): SlackMessage {
  const now = opts.now ?? Date.now();
  const readiness: Record<string, string> = {
    Live: WORDS.readiness_live(),
    Offline: WORDS.readiness_offline(),
    Starting: WORDS.readiness_starting(),
    Queued: WORDS.readiness_queued(),
  };
  const lines = [
    `*\`${inertEcho(model.name)}\`* — ${statusWord(model)}`,
    model.description && inertEcho(model.description),
    model.status ? readiness[model.status] : undefined,
    WORDS.use_model_hint({ fragment: uniqueFragment(model.name, snapshot.models) ?? model.name, isDefault: opts.channelDefault === model.name }),
  ].filter(Boolean);
  return {
    text: `${inertEcho(model.name)}: ${model.status ?? 'status unknown'}`,
    blocks: [section(lines.join('\n'), useButton(model)), ...caveats(snapshot, now)],
  };
}

/**
 * What a channel without a default gets, in words: METIS_DEFAULT_MODEL when
 * Metis offers it, else the first Live model (saying the setting is wrong).
 */
export function fallbackModelText(configured: string | undefined, offered: string[] | undefined): string {
  if (!configured) return WORDS.fallback_first_live();
  if (offered && defaultModelProblem(offered, configured)) return WORDS.fallback_default_unknown({ configured });
  return `\`${inertEcho(configured)}\``;
}

export function helpMessage(opts: { channelDefault?: string; fallback: string; instructions?: ChannelInstructionsEntry }): SlackMessage {
  const text = [
    ...WORDS.help_lines({ instructionsMax: INSTRUCTIONS_MAX_CHARS }),
    opts.channelDefault ? WORDS.channel_default_here({ model: opts.channelDefault }) : WORDS.channel_default_none({ fallback: opts.fallback }),
    opts.instructions ? WORDS.instructions_here(opts.instructions) : WORDS.instructions_none(),
  ].join('\n');
  return { text, blocks: [section(text)] };
}
