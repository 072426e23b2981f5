/**
 * A Redis read shared by every caller in this process for a short while.
 * Flags every answer looks at (an admin's pause, an access incident, the
 * last model list) change rarely; reading each once per answer cost more
 * Redis commands than the answer's own work. Once per `ttlMs` per process is
 * as current as a person can tell, and the process's own writes `forget` the
 * value at once. A failed read is not kept.
 */
export interface CachedRead<T> {
  (): Promise<T>;
  /** The next call reads Redis again (after this process changed the value). */
  forget(): void;
}

export function cachedRead<T>(ttlMs: number, read: () => Promise<T>, now: () => number = Date.now): CachedRead<T> {
  let value: Promise<T> | undefined;
  let readAt = 0;
  const get = (() => {
    const t = now();
    if (!value || t - readAt >= ttlMs) {
      readAt = t;
      const reading = read();
      value = reading;
      reading.catch(() => {
        if (value === reading) value = undefined;
      });
    }
    return value;
  }) as CachedRead<T>;
  get.forget = () => {
    value = undefined;
  };
  return get;
}
