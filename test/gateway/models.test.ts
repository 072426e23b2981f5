/** GatewayClient.models against the fake gateway: GET /{cluster}/models (§2.4), tolerated when missing. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessTokenRejected } from '../../src/errors.ts';
import { GatewayClient } from '../../src/gateway/client.ts';
import { parseModelDetails } from '../../src/gateway/model-details.ts';
import { type FakeGateway, startFakeGateway } from '../fakes/gateway.ts';

let fake: FakeGateway;
let client: GatewayClient;

beforeEach(async () => {
  fake = await startFakeGateway({
    models: [
      { name: 'gpt-oss-120b', status: 'Live', contextWindowTokens: 131_072 },
      { name: 'Mistral-Large-3-675B-Instruct-2512', status: 'Live', contextWindowTokens: 8192, details: 'no-window' },
      { name: 'DeepSeek-R1', status: 'Starting', details: 'bare' },
    ],
  });
  client = new GatewayClient({ baseUrl: fake.url, cluster: 'metis' });
});
afterEach(async () => {
  await fake.close();
});

describe('GatewayClient.models', () => {
  it('reads each model, with its context window where the gateway gives one', async () => {
    const models = await client.models('valid-token');
    expect(models).not.toBe('unknown');
    expect([...(models as Map<string, unknown>).values()]).toEqual([
      { id: 'gpt-oss-120b', contextWindowTokens: 131_072 },
      { id: 'Mistral-Large-3-675B-Instruct-2512' },
      { id: 'DeepSeek-R1' },
    ]);
    expect(fake.requests.at(-1)).toEqual({ method: 'GET', path: '/resource_server/metis/models' });
  });

  it('answers "unknown" when the gateway has no such route (its 404 page)', async () => {
    fake.setModelsRoute(false);
    expect(await client.models('valid-token')).toBe('unknown');
  });

  it('still fails loudly on a refused token', async () => {
    await expect(client.models('bad-token')).rejects.toBeInstanceOf(AccessTokenRejected);
  });
});

describe('parseModelDetails', () => {
  it('skips what it cannot read and keeps only positive whole windows', () => {
    const body = [
      null,
      'x',
      { object: 'model' },
      { id: 'a', capabilities: { context_window_tokens: '4096' } },
      { id: 'b', capabilities: { context_window_tokens: -1 } },
      { id: 'c', capabilities: { max_model_len: 32_768 } },
      { id: 'd', max_model_len: 16_384 },
      { id: 'e', cluster: 'sophia', capabilities: { context_window_tokens: 4096 } },
    ];
    expect([...parseModelDetails(body, 'metis').values()]).toEqual([
      { id: 'a' },
      { id: 'b' },
      { id: 'c', contextWindowTokens: 32_768 },
      { id: 'd', contextWindowTokens: 16_384 },
    ]);
    expect(parseModelDetails({ models: [] }, 'metis').size).toBe(0);
  });
});
