/** A real logger (same redaction as the service) whose output a test can read. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.ts';

export interface CapturedLogger {
  logger: Logger;
  /** Every line written, as written. */
  lines: string[];
  /** Every line, parsed (a line that is not JSON becomes `{ raw }`). */
  entries: Record<string, unknown>[];
}

export function capturedLogger(level: string): CapturedLogger {
  const lines: string[] = [];
  const entries: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        lines.push(line);
        try {
          entries.push(JSON.parse(line));
        } catch {
          entries.push({ raw: line });
        }
      }
      cb();
    },
  });
  return { logger: createLogger(level, sink), lines, entries };
}
