/**
 * Each model's context window: the gateway's word (the fake gateway's models
 * route), then the setting, then 8,192; a smaller limit learned from a real
 * context-length refusal is shared through Redis and forgotten after its TTL
 * (an injected clock, not a wait).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MetisError } from '../../src/errors.ts';
import { GatewayClient } from '../../src/gateway/client.ts';
import { answerReserveTokens, fitToWindow } from '../../src/conversation/token-budget.ts';
import type { ChatMessage } from '../../src/gateway/client.ts';
import { ContextWindows, LEARNED_TTL_MS } from '../../src/models/context-windows.ts';
import { type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

let redis: Redis;
let fake: FakeGateway;
let gateway: GatewayClient;
let prefix: string;
let clock: number;
const logs = capturedLogger('warn');

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => {
  redis.disconnect();
});
beforeEach(async () => {
  prefix = `cw-${randomUUID()}`;
  clock = 1_000_000;
  fake = await startFakeGateway({
    models: [
      { name: 'gpt-oss-120b', status: 'Live', contextWindowTokens: 131_072 },
      { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live', contextWindowTokens: 16_384, details: 'no-window' },
      { name: 'DeepSeek-R1', status: 'Live', details: 'bare' },
    ],
  });
  gateway = new GatewayClient({ baseUrl: fake.url, cluster: 'metis' });
});
afterEach(async () => {
  await fake.close();
});

function windows(configured: Record<string, number> = {}, token = 'valid-token'): ContextWindows {
  return new ContextWindows({
    redis,
    keyPrefix: prefix,
    configured: new Map(Object.entries(configured)),
    describe: () => gateway.models(token),
    logger: logs.logger,
    now: () => clock,
  });
}

/** The refusal the gateway relays when a prompt is longer than the model's window, as the client translates it. */
async function realRefusal(model: string): Promise<unknown> {
  try {
    for await (const _ of gateway.streamChat({
      token: 'valid-token',
      framework: 'api',
      model,
      messages: [{ role: 'user', content: 'x'.repeat(80_000) }],
      idleTimeoutMs: 10_000,
    }));
  } catch (err) {
    return err;
  }
  throw new Error('the fake gateway did not refuse the prompt');
}

describe('ContextWindows', () => {
  it('takes the gateway\'s window, then the setting (any case), then 8,192', async () => {
    const w = windows({ 'meta-llama-3.3-70b-instruct': 65_536, 'gpt-oss-120b': 4096 });
    expect(Object.fromEntries(await w.windowsOf(['gpt-oss-120b', 'Meta-Llama-3.3-70B-Instruct', 'DeepSeek-R1']))).toEqual({
      'gpt-oss-120b': { tokens: 131_072, source: 'gateway' },
      'Meta-Llama-3.3-70B-Instruct': { tokens: 65_536, source: 'setting' },
      'DeepSeek-R1': { tokens: 8192, source: 'default' },
    });
  });

  it('falls back to the setting when the gateway has no models route, and reads the route once per freshness window', async () => {
    fake.setModelsRoute(false);
    const w = windows({ 'gpt-oss-120b': 32_768 });
    expect(await w.windowOf('gpt-oss-120b')).toEqual({ tokens: 32_768, source: 'setting' });
    await w.windowOf('gpt-oss-120b');
    const reads = () => fake.requests.filter((r) => r.path.endsWith('/metis/models')).length;
    expect(reads()).toBe(1);
    fake.setModelsRoute(true);
    clock += 10 * 60_000;
    expect(await w.windowOf('gpt-oss-120b')).toEqual({ tokens: 131_072, source: 'gateway' });
    expect(reads()).toBe(2);
  });

  it('does not fail when the gateway refuses the read: the settings stand in, and the operator is told', async () => {
    const w = windows({}, 'not-a-token');
    expect(await w.windowOf('gpt-oss-120b')).toEqual({ tokens: 8192, source: 'default' });
    expect(logs.entries.some((e) => /context windows from the gateway/.test(String(e.msg)))).toBe(true);
  });

  it('learns a smaller window from a real refusal, shares it with the fleet, and forgets it after the TTL', async () => {
    // The gateway says nothing of Llama's window; the setting claims more than the model takes.
    const one = windows({ 'Meta-Llama-3.3-70B-Instruct': 65_536 });
    const refusal = await realRefusal('Meta-Llama-3.3-70B-Instruct');
    expect(refusal).toMatchObject({ code: 'context_too_long', details: { contextTokens: 16_384 } });
    expect(await one.learnFrom(refusal, 'Meta-Llama-3.3-70B-Instruct')).toEqual({ tokens: 16_384, source: 'learned' });
    // Another process, sharing Redis, knows it at once.
    const other = windows({ 'Meta-Llama-3.3-70B-Instruct': 65_536 });
    expect(await other.windowOf('Meta-Llama-3.3-70B-Instruct')).toEqual({ tokens: 16_384, source: 'learned' });
    clock += LEARNED_TTL_MS - 1;
    expect((await other.windowOf('Meta-Llama-3.3-70B-Instruct')).source).toBe('learned');
    clock += 1;
    expect(await other.windowOf('Meta-Llama-3.3-70B-Instruct')).toEqual({ tokens: 65_536, source: 'setting' });
    expect(await redis.pttl(`${prefix}:context-window:learned`)).toBeGreaterThan(0); // Redis cleans up too
  });

  it('learns nothing that would not help: a larger or missing limit, or another error', async () => {
    const w = windows();
    const refused = (contextTokens?: number) =>
      new MetisError('context_too_long', 'too long', { model: 'DeepSeek-R1', ...(contextTokens !== undefined ? { contextTokens } : {}) });
    expect(await w.learnFrom(refused(), 'DeepSeek-R1')).toBeUndefined();
    expect(await w.learnFrom(refused(8192), 'DeepSeek-R1')).toBeUndefined();
    expect(await w.learnFrom(refused(100), 'DeepSeek-R1')).toBeUndefined();
    expect(await w.learnFrom(new MetisError('model_error', 'x', { contextTokens: 4096 }), 'DeepSeek-R1')).toBeUndefined();
    expect(await w.windowOf('DeepSeek-R1')).toEqual({ tokens: 8192, source: 'default' });
    expect(await w.learnFrom(refused(4096), 'DeepSeek-R1')).toEqual({ tokens: 4096, source: 'learned' });
    expect(await w.windowOf('DeepSeek-R1')).toEqual({ tokens: 4096, source: 'learned' });
  });
});

describe('the way the answer processor is to use them', () => {
  it('fits, is refused by the real window, learns it, fits again and is answered: one retry, nothing shown before', async () => {
    const model = 'Meta-Llama-3.3-70B-Instruct'; // its real window, 16,384, is enforced but not advertised
    const w = windows({ [model]: 131_072 }); // a setting that promises too much
    const turns: ChatMessage[] = Array.from({ length: 60 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i} ${'the quick brown fox jumps over the lazy dog '.repeat(100)}`,
    }));
    const question: ChatMessage = { role: 'user', content: 'Ada: and so?' };
    const ask = async (windowTokens: number) => {
      const fit = fitToWindow({ system: 'sys', turns, question, windowTokens, reserveForAnswerTokens: answerReserveTokens(windowTokens) });
      let text = '';
      for await (const e of gateway.streamChat({ token: 'valid-token', framework: 'api', model, messages: fit.messages, idleTimeoutMs: 10_000 }))
        if (e.type === 'text') text += e.text;
      return { fit, text };
    };

    const first = await w.windowOf(model);
    expect(first).toEqual({ tokens: 131_072, source: 'setting' });
    const refusal = await ask(first.tokens).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toMatchObject({ code: 'context_too_long' });
    const learned = await w.learnFrom(refusal, model);
    expect(learned).toEqual({ tokens: 16_384, source: 'learned' });
    const second = await ask((learned as { tokens: number }).tokens);
    expect(second.text).toBe('You said: Ada: and so?');
    expect(second.fit.droppedTurns).toBeGreaterThan(0);
    expect(second.fit.messages.at(-1)).toEqual(question);
    expect(fake.chatRequests).toHaveLength(2);
  });
});
