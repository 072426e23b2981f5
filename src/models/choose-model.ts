/**
 * Which exact model answers a question. In order: the model named with -m
 * (exact name, or a unique case-insensitive fragment); the model the thread
 * started with; the channel's default; METIS_DEFAULT_MODEL; the first Live
 * model; the first listed. Names come from the gateway, never from a list of
 * our own; a remembered model that Metis no longer offers is reported.
 */
import { MetisError } from '../errors.ts';
import type { ModelSnapshot } from './catalog.ts';

/** The model a name or fragment stands for, or a MetisError naming the choices. */
export function resolveModelName(names: string[], requested: string): string {
  if (names.includes(requested)) return requested;
  const lower = requested.toLowerCase();
  const exact = names.filter((n) => n.toLowerCase() === lower);
  if (exact.length === 1) return exact[0] as string;
  const matches = names.filter((n) => n.toLowerCase().includes(lower));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1) throw new MetisError('ambiguous_model', `"${requested}" matches ${matches.length} models`, { model: requested, models: matches });
  throw new MetisError('unknown_model', `no model matches "${requested}"`, { model: requested, models: names });
}

export interface ModelChoice {
  model: string;
  /** Where the choice came from (for logs, and for the thread to remember). */
  source: 'flag' | 'thread' | 'channel' | 'configured' | 'first-live' | 'first-listed';
}

export function chooseModel(
  snapshot: Pick<ModelSnapshot, 'models'>,
  prefs: { flag?: string; thread?: string; channel?: string; configured?: string },
): ModelChoice {
  const names = snapshot.models.map((m) => m.name);
  if (names.length === 0) throw new MetisError('no_models', 'list-endpoints returned no models for the cluster');
  if (prefs.flag !== undefined) return { model: resolveModelName(names, prefs.flag), source: 'flag' };
  for (const source of ['thread', 'channel'] as const) {
    const remembered = prefs[source];
    if (!remembered) continue;
    if (!names.includes(remembered))
      throw new MetisError('model_gone', `${source} model ${remembered} is no longer listed`, { model: remembered, models: names, where: source });
    return { model: remembered, source };
  }
  if (prefs.configured) return { model: prefs.configured, source: 'configured' };
  const live = snapshot.models.find((m) => m.status === 'Live');
  if (live) return { model: live.name, source: 'first-live' };
  return { model: names[0] as string, source: 'first-listed' };
}
