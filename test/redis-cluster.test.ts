/**
 * REDIS_URL=redis+cluster://…: the whole answer path (queue, token, budgets,
 * usage) on a real three-node Redis Cluster, every key under one hash tag.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAccessConfig } from '../src/config.ts';
import { keyPrefixFor } from '../src/redis-connection.ts';
import { BOT_USER_ID } from './fakes/slack.ts';
import { type Harness, startHarness } from './helpers/harness.ts';
import { freePort, ping } from './helpers/redis-server.ts';
import { waitFor } from './helpers/wait.ts';

const nodes: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'metis-cluster-'));
let url: string;
let h: Harness | undefined;

beforeAll(async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  for (const port of ports) {
    const nodeDir = join(dir, String(port));
    spawnSync('mkdir', ['-p', nodeDir]);
    nodes.push(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--dir', nodeDir], {
        stdio: 'ignore',
      }),
    );
  }
  for (const port of ports) await waitFor(() => ping(port), `cluster node ${port}`, 10_000);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  expect(created.status, created.stdout + created.stderr).toBe(0);
  await waitFor(
    () => ports.every((p) => spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok')),
    'the cluster to be ok',
    15_000,
  );
  url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
}, 40_000);

afterAll(async () => {
  await h?.stop();
  for (const n of nodes) {
    n.kill('SIGKILL');
    await new Promise((r) => (n.exitCode === null ? n.once('exit', r) : r(undefined)));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  it('puts every key under the queue prefix as a hash tag', () => {
    expect(keyPrefixFor(url, 'metis')).toBe('{metis}');
    expect(keyPrefixFor('redis://127.0.0.1:6379', 'metis')).toBe('metis');
    expect(loadAccessConfig({ REDIS_URL: url, QUEUE_PREFIX: 'lab', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) }).keyPrefix).toBe('{lab}');
  });

  it('answers a question end to end', async () => {
    h = await startHarness({ mode: 'socket', redisUrl: url });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> over a cluster?` });
    const [answer] = await h.reply(q);
    expect(answer?.text).toContain('over a cluster?');
    // The bookkeeping landed too, under the hash-tagged prefix.
    const usage = String((await h.command('/metis', 'usage')).body.text);
    expect(usage).toMatch(/1 question/);
  });
});
