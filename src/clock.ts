/**
 * The process's own clock, for the decisions a process makes alone: pacing
 * (how long to wait before asking again), local caches and the fixed
 * windows of per-person limits. Fleet-wide timing stays on Redis's clock
 * (redis-clock.ts). Injected so tests can move time on instead of waiting
 * it out; production uses the real one.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` every `ms` milliseconds until the returned function is called; keeps no process alive. */
  every(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
