/**
 * Model names as people type them and as operators configure them, matched
 * against the names the gateway lists (never against a list of our own).
 */
import { MetisError } from '../errors.ts';

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

/** What is wrong with the configured default model, given the models Metis offers; undefined when nothing is. */
export function defaultModelProblem(names: string[], configured: string | undefined): { configured: string; suggestion?: string } | undefined {
  if (!configured || names.length === 0 || names.includes(configured)) return undefined;
  let suggestion: string | undefined;
  try {
    suggestion = resolveModelName(names, configured);
  } catch {
    // No single model is close: nothing to suggest.
  }
  return { configured, ...(suggestion ? { suggestion } : {}) };
}

