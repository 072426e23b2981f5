/**
 * What Redis itself says it ran, for the bench's cost figures: its counts of
 * calls per command and of socket reads, and a MONITOR stream naming each
 * command as it runs.
 */
import { Redis } from 'ioredis';

/** Redis's own count of calls per command (commands a Lua script runs inside Redis included). */
export async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** Redis's count of commands of every kind so far. */
export async function redisCalls(client: Redis): Promise<number> {
  return Object.values(await commandStats(client)).reduce((a, b) => a + b, 0);
}

/** Redis's count of socket reads it processed: a round trip each (a pipeline arrives as one). */
export async function socketReads(client: Redis): Promise<number> {
  const info = await client.info('stats');
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * Calls `onCommand` for every command Redis runs (`source` is a client's address, or "lua" inside a script)
 * until the returned function is called. MONITOR slows Redis: for samples, not for timings.
 */
export async function watchCommands(url: string, onCommand: (args: string[], source: string) => void): Promise<() => void> {
  const watcher = new Redis(url);
  // A MONITOR connection can lose track of its replies under load (ioredis says "Command queue state error"): the sample
  // then stops short, and the bench goes on.
  watcher.on('error', () => undefined);
  const monitor = await watcher.monitor();
  monitor.on('error', () => undefined);
  monitor.on('monitor', (_time: string, args: string[], source: string) => onCommand(args, source));
  return () => {
    monitor.disconnect();
    watcher.disconnect();
  };
}
