/**
 * Tests need a real Redis. Use REDIS_URL when set; otherwise start
 * `redis-server` from PATH on a free port for this run (in a temp dir, with
 * append-only persistence, as in production) and stop it afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, ping } from './helpers/redis-server.ts';

async function waitForRedis(port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    if (await ping(port)) return;
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (Date.now() > until) throw new Error('redis-server did not answer PING within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

let child: ChildProcess | undefined;
let dir: string | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.REDIS_URL;
  if (!url) {
    const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (found.error) {
      throw new Error(
        'The tests need a real Redis. Either set REDIS_URL=redis://host:port, or install redis-server ' +
          '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) so the tests can start one.',
      );
    }
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'metis-bot-redis-'));
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], {
      stdio: 'ignore',
    });
    await waitForRedis(port, child);
    url = `redis://127.0.0.1:${port}`;
  }
  project.provide('redisUrl', url);
  return async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
