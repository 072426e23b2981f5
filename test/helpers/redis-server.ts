/**
 * A Redis of a test's own, for tests that stop and restart it: append-only
 * persistence in a temporary folder, as in production (docker-compose).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  /** Shuts down cleanly (the append-only file is flushed), as a restart would. */
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
  /** The server's process id (for CPU accounting in the benchmark). */
  pid(): number | undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(300);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A redis-server of its own with append-only persistence. Tests fsync every
 * write (`always`: a restart loses nothing, whatever the timing); the bench
 * runs Redis as docker-compose does (`everysec`), since an fsync per write
 * puts the disk's latency into every Redis round trip.
 */
export async function startTestRedis(opts: { appendfsync?: 'always' | 'everysec' } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'metis-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', opts.appendfsync ?? 'always', '--save', ''], {
      stdio: 'ignore',
    });
    const until = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (Date.now() > until) throw new Error('test redis-server did not start');
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    pid: () => child?.pid,
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
