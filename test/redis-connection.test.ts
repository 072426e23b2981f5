/**
 * REDIS_URL forms an operator may give: one server, or Redis Sentinel (the bot
 * asks the sentinels for the master). Against a real redis-server and a real
 * sentinel started for the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadAccessConfig } from '../src/config.ts';
import { redisConnection, redisWhere } from '../src/redis-connection.ts';
import { freePort, ping } from './helpers/redis-server.ts';
import { waitFor } from './helpers/wait.ts';

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'metis-sentinel-'));
let serverPort: number;
let sentinelPort: number;

beforeAll(async () => {
  serverPort = await freePort();
  sentinelPort = await freePort();
  children.push(spawn('redis-server', ['--port', String(serverPort), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' }));
  await waitFor(() => ping(serverPort), 'redis-server', 10_000);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor main-db 127.0.0.1 ${serverPort} 1\n`);
  children.push(spawn('redis-server', [conf, '--sentinel', '--dir', dir], { stdio: 'ignore' }));
  await waitFor(() => ping(sentinelPort), 'redis sentinel', 10_000);
});

afterAll(async () => {
  for (const c of children) {
    c.kill('SIGKILL');
    await new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(undefined)));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('REDIS_URL', () => {
  it('redis+sentinel:// finds the master through the sentinels', async () => {
    const url = `redis+sentinel://127.0.0.1:1,127.0.0.1:${sentinelPort}/main-db`;
    expect(loadAccessConfig({ REDIS_URL: url, TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) }).redisUrl).toBe(url);
    const redis = redisConnection(url);
    redis.on('error', () => undefined); // the first sentinel listed is down: ioredis moves on to the next
    await redis.connect();
    await redis.set('metis-sentinel-test', 'through sentinel');
    const direct = redisConnection(`redis://127.0.0.1:${serverPort}`);
    await direct.connect();
    expect(await direct.get('metis-sentinel-test')).toBe('through sentinel');
    redis.disconnect();
    direct.disconnect();
  });

  it('names the hosts, never the password, and refuses forms it cannot use', () => {
    expect(redisWhere('redis+sentinel://:s3cret@h1:26379,h2:26379/main-db')).toBe('h1:26379,h2:26379');
    expect(redisWhere('redis://:s3cret@db.lab:6380/2')).toBe('db.lab:6380');
    expect(() => loadAccessConfig({ REDIS_URL: 'memcached://h1:11211', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) })).toThrow(ConfigError);
  });
});
