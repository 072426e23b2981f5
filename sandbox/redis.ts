/**
 * Redis for the sandbox, found as the tests find it: REDIS_URL, or a
 * redis-server from PATH on a free port in a temporary folder. Ours runs in a
 * process group of its own, so the Ctrl-C meant for the sandbox does not stop
 * Redis under the service while it shuts down; the sandbox stops it last.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ping } from '../test/helpers/redis-server.ts';

const START_TIMEOUT_MS = 10_000;

export interface SandboxRedis {
  url: string;
  /** Whether the sandbox started this Redis (and so stops it). */
  own: boolean;
  stop(): Promise<void>;
}

export async function findRedis(redisUrl: string | undefined): Promise<SandboxRedis> {
  if (redisUrl) return { url: redisUrl, own: false, stop: async () => undefined };
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(
      'The sandbox needs Redis: set REDIS_URL=redis://host:port, or install redis-server ' +
        '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) so it can start one.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'metis-sandbox-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
    detached: true,
  });
  // Whatever way this process ends, its Redis ends too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const until = Date.now() + START_TIMEOUT_MS;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    own: true,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
