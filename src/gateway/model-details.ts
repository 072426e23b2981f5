/**
 * What GET /{cluster}/models says each model accepts (gateway contract §2.4):
 * a bare JSON list of `{id, object, cluster, framework, …}`, with a versioned
 * `capabilities` object where the gateway has one. Only what the bot uses is
 * kept; an item it cannot read is skipped rather than failing the list.
 */

export interface ModelDetails {
  /** The model's name, exactly as the gateway lists it. */
  id: string;
  /** Prompt plus answer, in tokens; absent when the gateway does not say. */
  contextWindowTokens?: number;
}

const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/** The models in a /models body, keyed by id; items of another cluster are left out. */
export function parseModelDetails(body: unknown, cluster: string): Map<string, ModelDetails> {
  const out = new Map<string, ModelDetails>();
  if (!Array.isArray(body)) return out;
  for (const item of body) {
    if (!item || typeof item !== 'object') continue;
    const m = item as Record<string, unknown>;
    if (typeof m.id !== 'string' || m.id === '') continue;
    if (typeof m.cluster === 'string' && m.cluster !== cluster) continue;
    const caps = m.capabilities && typeof m.capabilities === 'object' ? (m.capabilities as Record<string, unknown>) : {};
    // vLLM entries (Sophia) may carry max_model_len instead, in capabilities or as an extra key.
    const window = positiveInt(caps.context_window_tokens) ?? positiveInt(caps.max_model_len) ?? positiveInt(m.max_model_len);
    out.set(m.id, { id: m.id, ...(window !== undefined ? { contextWindowTokens: window } : {}) });
  }
  return out;
}
