/**
 * Which exact model answers a question. In order: the model named with -m
 * (exact name, or a unique case-insensitive fragment); the model most
 * recently named with -m in the thread; the channel's default;
 * METIS_DEFAULT_MODEL, if Metis offers it; the first Live model; the first
 * listed. Names come from the gateway, never from a list of our own; a
 * remembered model that Metis no longer offers is reported.
 */
import type { ModelSnapshot } from './catalog.ts';
import { MetisError } from '../errors.ts';
import { resolveModelName } from './model-names.ts';

export interface ModelChoice {
  model: string;
  /** Where the choice came from (for logs, and for the thread to remember). */
  source: 'flag' | 'thread' | 'channel' | 'configured' | 'first-live' | 'first-listed';
  /** METIS_DEFAULT_MODEL's value, when it names no model Metis offers and this choice replaces it. */
  ignoredDefault?: string;
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
  // A setting is taken as written (the gateway needs exact names); a misspelt one must not fail every question.
  if (prefs.configured && names.includes(prefs.configured)) return { model: prefs.configured, source: 'configured' };
  const ignored = prefs.configured ? { ignoredDefault: prefs.configured } : {};
  const live = snapshot.models.find((m) => m.status === 'Live');
  if (live) return { model: live.name, source: 'first-live', ...ignored };
  return { model: names[0] as string, source: 'first-listed', ...ignored };
}
