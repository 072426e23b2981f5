/**
 * A clock that moves only when a test says so: TTLs and pacing are stepped
 * through exactly instead of waited out, and a test can see what is waiting
 * on the clock (a barrier) rather than sleeping to find out.
 */
import type { Clock } from '../../src/clock.ts';

interface Timer {
  at: number;
  fn: () => void;
  /** Set for a repeating timer. */
  periodMs?: number;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private readonly timers = new Set<Timer>();
  private readonly sleeps = new Set<Timer>();

  /** Starts at a fixed instant (mid-hour, mid-day UTC) unless told otherwise. */
  constructor(startMs = Date.UTC(2025, 0, 15, 12, 30, 0)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t: Timer = { at: this.nowMs + ms, fn: () => resolve() };
      this.sleeps.add(t);
    });
  }

  every(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.nowMs + ms, fn, periodMs: ms };
    this.timers.add(t);
    return () => this.timers.delete(t);
  }

  /** How long each pending sleep has left, soonest first. */
  sleeping(): number[] {
    return [...this.sleeps].map((t) => t.at - this.nowMs).sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, running every timer and ending every sleep that falls due, in order of due time. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers, ...this.sleeps].filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.nowMs = due.at;
      if (due.periodMs === undefined) this.sleeps.delete(due);
      else due.at += due.periodMs;
      due.fn();
    }
    this.nowMs = until;
  }

  /** Sets the time (forward only) and runs what falls due. */
  set(ms: number): void {
    this.advance(Math.max(0, ms - this.nowMs));
  }
}
