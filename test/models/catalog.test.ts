/**
 * The model catalog's freshness window and its wait for another process's
 * fetch, on an injected clock against the fake gateway and a real Redis: the
 * window's edge is stepped to exactly, and the 15 s wait is jumped, not slept.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAccessTokenSource } from '../../src/auth/access-token.ts';
import { GatewayClient } from '../../src/gateway/client.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';
import { type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: Redis;
let gateway: FakeGateway | undefined;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function catalogOnClock(clock: ManualClock) {
  gateway = await startFakeGateway();
  const keyPrefix = `m${randomBytes(4).toString('hex')}`;
  const { logger, entries } = capturedLogger('debug');
  const catalog = new ModelCatalog({
    gateway: new GatewayClient({ baseUrl: gateway.url, cluster: 'metis' }),
    tokens: createAccessTokenSource({ kind: 'static', accessToken: 'valid-token' }, { redis, keyPrefix, keys: [], logger }),
    redis,
    keyPrefix,
    logger,
    freshMs: 60_000,
    clock,
  });
  const fake = gateway;
  const fetches = () => fake.requests.filter((r) => r.path.endsWith('/list-endpoints')).length;
  return { catalog, keyPrefix, logs: entries, fetches };
}

describe('the model catalog on its own clock', () => {
  it('uses a snapshot for exactly its freshness window, then fetches once more', async () => {
    const clock = new ManualClock();
    const { catalog, fetches } = await catalogOnClock(clock);
    const first = await catalog.snapshot();
    expect(first.fetchedAt).toBe(clock.now());
    expect(first.stale).toBe(false);
    expect(fetches()).toBe(1);
    clock.advance(60_000);
    expect((await catalog.snapshot()).fetchedAt).toBe(first.fetchedAt);
    expect(fetches()).toBe(1);
    clock.advance(1);
    const second = await catalog.snapshot();
    expect(second.fetchedAt).toBe(clock.now());
    expect(fetches()).toBe(2);
    expect((await catalog.snapshot(0)).fetchedAt).toBe(clock.now()); // "no older than 0 ms" is this instant
    expect(fetches()).toBe(2);
  });

  it('an unreachable gateway past the window: the last known snapshot, marked stale, its age logged', async () => {
    const clock = new ManualClock();
    const { catalog, logs } = await catalogOnClock(clock);
    const first = await catalog.snapshot();
    await gateway?.close();
    gateway = undefined;
    clock.advance(90_000);
    const view = await catalog.snapshot();
    expect(view).toMatchObject({ stale: true, fetchedAt: first.fetchedAt, models: first.models });
    expect(logs.find((l) => l.msg === 'model status unavailable; using the last known')).toMatchObject({ ageMs: 90_000 });
  });

  it('while another process fetches, waits on the clock for its result, and after 15 s gives the last known, stale', async () => {
    const clock = new ManualClock();
    const { catalog, keyPrefix, fetches } = await catalogOnClock(clock);
    const first = await catalog.snapshot();
    clock.advance(60_001);
    await redis.set(`${keyPrefix}:models:refresh-lock`, 'another-process', 'PX', 20_000);
    let view: Awaited<ReturnType<ModelCatalog['snapshot']>> | undefined;
    const waiting = catalog.snapshot().then((v) => {
      view = v;
    });
    await waitFor(() => clock.sleeping().length === 1, 'the catalog waiting for the other fetch');
    clock.advance(15_000); // the deadline itself: it looks again, then waits once more
    await waitFor(() => clock.sleeping().length === 1, 'the catalog waiting again');
    expect(view).toBeUndefined();
    clock.advance(50);
    await waiting;
    expect(view).toMatchObject({ stale: true, fetchedAt: first.fetchedAt });
    expect(fetches()).toBe(1); // it never asked the gateway itself
  });
});
