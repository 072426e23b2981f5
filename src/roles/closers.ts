/**
 * What a process closes at shutdown, in the reverse of the order it was
 * started: intake first, Redis last. Every step runs even when one before it
 * failed, so one stuck part cannot keep Redis connections or timers open.
 */
import type { Logger } from '../logger.ts';

export class Closers {
  readonly #steps: { name: string; close: () => Promise<unknown> }[] = [];

  constructor(private readonly logger: Logger) {}

  /** Registers a step; it runs before every step added earlier. */
  add(name: string, close: () => Promise<unknown>): void {
    this.#steps.push({ name, close });
  }

  /** Runs every step once, newest first; a failed step is logged and the rest still run. */
  async closeAll(): Promise<void> {
    // Taken out first: a second call (a signal during shutdown) finds nothing left to close.
    const steps = this.#steps.splice(0).reverse();
    for (const step of steps) {
      try {
        await step.close();
      } catch (err) {
        this.logger.warn({ err, step: step.name }, 'shutdown step failed; continuing');
      }
    }
  }
}
