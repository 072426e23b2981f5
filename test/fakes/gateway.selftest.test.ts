/**
 * Self-test of the fake gateway: it is exercised over real HTTP, with fetch
 * and with the `openai` client the bot uses, to show it speaks the protocol
 * described in shared/contracts/gateway.md. If these fail, tests built on the
 * fake prove nothing.
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGateway, startFakeGateway } from './gateway.ts';

const AUTH = { Authorization: 'Bearer valid-token' };
const CHAT = '/metis/api/v1/chat/completions';
const LIVE_MODEL = 'Meta-Llama-3.3-70B-Instruct';

let fake: FakeGateway;

beforeEach(async () => {
  fake = await startFakeGateway();
});
afterEach(async () => {
  await fake.close();
});

function get(path: string, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${fake.url}${path}`, { headers });
}

function post(path: string, body: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: LIVE_MODEL, messages: [{ role: 'user', content: 'hello there' }], ...extra };
}

function openai(token = 'valid-token'): OpenAI {
  return new OpenAI({ apiKey: token, baseURL: `${fake.url}/metis/api/v1`, maxRetries: 0, logLevel: 'off' });
}

/** Reads a body to its end, keeping each network chunk; a broken stream ends with `error` set. */
async function readChunks(res: Response): Promise<{ chunks: string[]; text: string; error?: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    return { chunks, text: chunks.join(''), error };
  }
  return { chunks, text: chunks.join('') };
}

/** The `data:` payloads of an SSE body, in order. */
function ssePayloads(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

describe('routing', () => {
  it('answers health and status without auth', async () => {
    const health = await get('/health', {});
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('{"status": "ok"}');
    expect(await (await get('/status', {})).json()).toEqual({ metis: true });
  });

  it('answers unknown paths, trailing slashes and /v1/models with Django 404 HTML', async () => {
    for (const path of ['/metis/api/v1/models', '/health/', '/list-endpoints/', '/nope']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<h1>Not Found</h1><p>The requested resource was not found on this server.</p>');
    }
    expect((await fetch(fake.url.replace('/resource_server', '/health'))).status).toBe(404);
  });

  it('answers a wrong method on a known route with 405 and Allow, before auth', async () => {
    const getChat = await fetch(`${fake.url}${CHAT}`);
    expect(getChat.status).toBe(405);
    expect(getChat.headers.get('allow')).toBe('POST');
    expect(await getChat.text()).toBe('Method not allowed');
    const postHealth = await post('/health', {});
    expect(postHealth.status).toBe(405);
    expect(postHealth.headers.get('allow')).toBe('GET');
  });

  it('records every request', async () => {
    await get('/health');
    await post(CHAT, 'not json');
    expect(fake.requests).toEqual([
      { method: 'GET', path: '/resource_server/health' },
      { method: 'POST', path: `/resource_server${CHAT}` },
    ]);
  });
});

describe('auth (§6.1)', () => {
  it('uses the detail envelope only for a missing header', async () => {
    for (const path of ['/list-endpoints', '/whoami', '/metis/jobs']) {
      const res = await get(path, {});
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        detail: "Error: Missing ('Authorization': 'Bearer <your-access-token>') in request headers.",
      });
    }
    const chat = await post(CHAT, chatBody(), {});
    expect(chat.status).toBe(401);
    expect(fake.chatRequests).toHaveLength(0); // only requests that passed auth are recorded
  });

  it('rejects malformed headers and bad tokens with the unauthorized envelope', async () => {
    const cases: [string, string][] = [
      ['Bearer', 'Auth only allows header type Authorization: Bearer <token>.'],
      ['Bearer a b', 'Auth only allows header type Authorization: Bearer <token>.'],
      ['bearer valid-token', 'Something went wrong while reading headers. Authorization type should be Bearer.'],
      ['Token valid-token', 'Something went wrong while reading headers. Authorization type should be Bearer.'],
      ['Bearer nope', 'Token is either not active or invalid'],
    ];
    for (const [header, message] of cases) {
      const res = await get('/list-endpoints', { Authorization: header });
      expect(res.status, header).toBe(401);
      expect(await res.json(), header).toEqual({ error: { code: 'unauthorized', message, info: {} } });
    }
  });

  it('gives each token problem its own message', async () => {
    fake.setTokenProblem('valid-token', 'expired');
    fake.setTokenProblem('p', 'policy');
    fake.setTokenProblem('w', 'wrong-idp');
    fake.setTokenProblem('g', 'no-group');
    const message = async (token: string) =>
      ((await (await get('/list-endpoints', { Authorization: `Bearer ${token}` })).json()) as { error: { message: string } }).error
        .message;
    expect(await message('valid-token')).toBe('Token is either not active or invalid');
    expect(await message('p')).toMatch(/^Error: Permission denied from internal policies\. This is likely due to a high-assurance timeout\./);
    expect(await message('w')).toMatch(/^Error: Permission denied\. Must authenticate with .*Currently authenticated as /);
    expect(await message('g')).toBe('Error: User is not a member of an allowed Globus Group.');
  });

  it('accepts tokens set later and reports the account on /whoami', async () => {
    fake.setValidTokens(['new-token']);
    expect((await get('/whoami')).status).toBe(401);
    const res = await get('/whoami', { Authorization: 'Bearer new-token' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ auth_service: 'globus', idp_id: 'clients.auth.globus.org' });
  });
});

describe('list-endpoints and jobs (§2)', () => {
  it('lists the models sorted by code point, in Ninja spacing', async () => {
    const res = await get('/list-endpoints');
    const text = await res.text();
    expect(text.startsWith('{"clusters": {"metis": {"base_url": "/resource_server/metis"')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      clusters: {
        metis: {
          base_url: '/resource_server/metis',
          frameworks: {
            api: {
              models: ['DeepSeek-R1', 'Meta-Llama-3.1-8B-Instruct', 'Meta-Llama-3.3-70B-Instruct', 'Qwen2.5-Coder-0.5B-Instruct', 'gpt-oss-120b'],
              endpoints: ['/v1/chat/completions'],
            },
          },
        },
      },
    });
    fake.setModels(['zeta', 'Alpha', 'beta', 'Zulu'].map((name) => ({ name, status: 'Live' })));
    const body = (await (await get('/list-endpoints')).json()) as any;
    expect(body.clusters.metis.frameworks.api.models).toEqual(['Alpha', 'Zulu', 'beta', 'zeta']);
    fake.setModels([]);
    expect(await (await get('/list-endpoints')).json()).toEqual({ clusters: { metis: { base_url: '/resource_server/metis', frameworks: {} } } });
  });

  it('maps each raw status word as the gateway does', async () => {
    fake.setModels([
      { name: 'A', status: 'Live', description: 'a' },
      { name: 'B', status: 'Stopped', description: 'b' },
      { name: 'C', status: 'Starting', description: 'c' },
      { name: 'D', status: 'Offline' },
      { name: 'E', status: 'Maintenance', description: 'e' },
      { name: 'F', status: 'Queued', description: 'f' },
    ]);
    const job = (name: string, status: string, description: string) => ({
      Models: name,
      Framework: 'api',
      Cluster: 'metis',
      'Model Status': status,
      Description: description,
      'Model Version': 1,
    });
    expect(await (await get('/metis/jobs')).json()).toEqual({
      running: [job('A', 'running', 'A - a')],
      queued: [job('C', 'starting', 'C - c'), job('D', 'offline', 'D - '), job('E', 'maintenance', 'E - e'), job('F', 'queued', 'F - f')],
      stopped: [job('B', 'stopped', 'B - b')],
      others: [],
      private_batch_running: [],
      private_batch_queued: [],
      cluster_status: { cluster: 'metis', total_models: 6, live_models: 1, stopped_models: 1 },
    });
  });

  it('follows setStatus, and knows only its own cluster', async () => {
    fake.setStatus('DeepSeek-R1', 'Live');
    const body = (await (await get('/metis/jobs')).json()) as any;
    expect(body.running.map((j: any) => j.Models)).toContain('DeepSeek-R1');
    expect(body.cluster_status).toEqual({ cluster: 'metis', total_models: 5, live_models: 4, stopped_models: 1 });
    const other = await get('/sophia/jobs');
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({
      error: { code: 'cluster_not_found', message: "The requested cluster 'sophia' does not exist.", info: {} },
    });
  });

  it('shows every model stopped with bare keys during maintenance', async () => {
    fake.setMaintenance('Metis is down for maintenance until 5pm');
    expect(await (await get('/status', {})).json()).toEqual({ metis: false });
    const body = (await (await get('/metis/jobs')).json()) as any;
    expect(body.running).toEqual([]);
    expect(body.queued).toEqual([]);
    expect(body.cluster_status).toEqual({});
    expect(body.stopped).toHaveLength(5);
    expect(body.stopped[0]).toEqual({ Models: LIVE_MODEL, Framework: 'api', Cluster: 'metis' });
  });
});

describe('models and their capabilities (§2.4)', () => {
  it('lists every model as a bare list, the window in capabilities where known, omitted where not', async () => {
    fake.setModels([
      { name: 'gpt-oss-120b', status: 'Live', contextWindowTokens: 131_072 },
      { name: 'Mistral-Large-3-675B-Instruct-2512', status: 'Stopped', contextWindowTokens: 8192, details: 'no-window' },
      { name: 'DeepSeek-R1', status: 'Live', details: 'bare' },
      { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live' },
    ]);
    const res = await get('/metis/models');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('[{"id": "gpt-oss-120b", "object": "model", "cluster": "metis", "framework": "api"')).toBe(true);
    const base = { schema_version: 1, api_protocols: ['chat_completions'], input_modalities: ['text'], streaming: true, tool_calling: { supported: false } };
    expect(JSON.parse(text)).toEqual([
      { id: 'gpt-oss-120b', object: 'model', cluster: 'metis', framework: 'api', capabilities: { ...base, context_window_tokens: 131_072 } },
      { id: 'Mistral-Large-3-675B-Instruct-2512', object: 'model', cluster: 'metis', framework: 'api', capabilities: base },
      { id: 'DeepSeek-R1', object: 'model', cluster: 'metis', framework: 'api' },
      { id: 'Meta-Llama-3.3-70B-Instruct', object: 'model', cluster: 'metis', framework: 'api', capabilities: base },
    ]);
  });

  it('?model_id= gives a one-item list or endpoint_not_found; another cluster is cluster_not_found; a token is required', async () => {
    fake.setModels([{ name: LIVE_MODEL, status: 'Live', contextWindowTokens: 4096 }]);
    const one = (await (await get(`/metis/models?model_id=${LIVE_MODEL}`)).json()) as any[];
    expect(one.map((m) => [m.id, m.capabilities.context_window_tokens])).toEqual([[LIVE_MODEL, 4096]]);
    const missing = await get('/metis/models?model_id=nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'endpoint_not_found', message: 'nope model not found on cluster metis.', info: {} } });
    const other = await get('/sophia/models');
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe('cluster_not_found');
    expect((await get('/metis/models', {})).status).toBe(401);
  });

  it('the window it reports is the one its chat route enforces', async () => {
    fake.setModels([{ name: LIVE_MODEL, status: 'Live', contextWindowTokens: 10 }]);
    const [item] = (await (await get('/metis/models')).json()) as any[];
    const window = item.capabilities.context_window_tokens as number;
    expect((await post(CHAT, chatBody({ max_tokens: window - 3 }))).status).toBe(200); // "hello there" is 3 tokens
    expect((await post(CHAT, chatBody({ max_tokens: window - 2 }))).status).toBe(400);
  });

  it('without the route (gateway HEAD) it answers Django\'s 404 page', async () => {
    fake.setModelsRoute(false);
    const res = await get('/metis/models');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<h1>Not Found</h1>');
  });
});

describe('chat request checks (§1.1, §4)', () => {
  async function expect422(body: unknown, detail: unknown[]): Promise<void> {
    const res = await post(CHAT, body);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail });
  }

  it('forbids unknown top-level fields such as top_k', async () => {
    const res = await post(CHAT, chatBody({ top_k: 40 }));
    expect(res.status).toBe(422);
    expect(await res.text()).toBe(
      '{"detail": [{"type": "extra_forbidden", "loc": ["body", "payload", "top_k"], "msg": "Extra inputs are not permitted"}]}',
    );
  });

  it('reports pydantic errors as the contract shows', async () => {
    await expect422({ messages: [] }, [{ type: 'missing', loc: ['body', 'payload', 'model'], msg: 'Field required' }]);
    await expect422({}, [
      { type: 'missing', loc: ['body', 'payload', 'messages'], msg: 'Field required' },
      { type: 'missing', loc: ['body', 'payload', 'model'], msg: 'Field required' },
    ]);
    await expect422(chatBody({ model: '' }), [
      {
        type: 'string_too_short',
        loc: ['body', 'payload', 'model'],
        msg: 'String should have at least 1 character',
        ctx: { min_length: 1 },
      },
    ]);
    const roleError = "'messages-role' must be one of ['developer', 'system', 'user', 'assistant', 'tool'].";
    await expect422(chatBody({ messages: [{ role: 'bot', content: 'x' }] }), [
      { type: 'value_error', loc: ['body', 'payload', 'messages', 0], msg: `Value error, ${roleError}`, ctx: { error: roleError } },
    ]);
    const noRole = "'role' must be provided in each message object.";
    await expect422(chatBody({ messages: [{ content: 'x' }] }), [
      { type: 'value_error', loc: ['body', 'payload', 'messages', 0], msg: `Value error, ${noRole}`, ctx: { error: noRole } },
    ]);
    await expect422(chatBody({ messages: [{ role: 'user', content: 'x', foo: 1 }] }), [
      { type: 'extra_forbidden', loc: ['body', 'payload', 'messages', 0, 'foo'], msg: 'Extra inputs are not permitted' },
    ]);
    await expect422(chatBody({ messages: [{ role: 'tool', content: 'x' }] }), [
      { type: 'missing', loc: ['body', 'payload', 'messages', 0, 'tool_call_id'], msg: 'Field required' },
    ]);
    await expect422(chatBody({ temperature: 3 }), [
      { type: 'less_than_equal', loc: ['body', 'payload', 'temperature'], msg: 'Input should be less than or equal to 2', ctx: { le: 2 } },
    ]);
    await expect422(chatBody({ stream_options: { include_usage: true, continuous_usage_stats: true } }), [
      {
        type: 'extra_forbidden',
        loc: ['body', 'payload', 'stream_options', 'continuous_usage_stats'],
        msg: 'Extra inputs are not permitted',
      },
    ]);
    const stopError = "'stop' list must have between 1 to 4 items.";
    await expect422(chatBody({ stop: ['a', 'b', 'c', 'd', 'e'] }), [
      { type: 'value_error', loc: ['body', 'payload'], msg: `Value error, ${stopError}`, ctx: { error: stopError } },
    ]);
    await expect422(chatBody({ reasoning_effort: 'minimal' }), [
      {
        type: 'enum',
        loc: ['body', 'payload', 'reasoning_effort'],
        msg: "Input should be 'low', 'medium' or 'high'",
        ctx: { expected: "'low', 'medium' or 'high'" },
      },
    ]);
  });

  it('prints float bounds as Python floats', async () => {
    const res = await post(CHAT, chatBody({ temperature: 3 }));
    expect(await res.text()).toContain('"ctx": {"le": 2.0}');
  });

  it('accepts what the gateway accepts', async () => {
    const accepted = [
      chatBody({ stream: null, max_tokens: null }),
      chatBody({ stream: 'false', response_format: { type: 'json_object' } }),
      chatBody({ messages: [] }),
      chatBody({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
          { role: 'assistant', content: 'hello', reasoning_content: 'thinking' },
          { role: 'user', content: 'again' },
        ],
      }),
    ];
    for (const body of accepted) expect((await post(CHAT, body)).status, JSON.stringify(body)).toBe(200);
  });

  it('answers 400 for unparseable JSON and 422 for an empty body', async () => {
    const bad = await post(CHAT, '{"model": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: 'Cannot parse request body' });
    const empty = await post(CHAT, '');
    expect(empty.status).toBe(422);
    expect(await empty.json()).toEqual({ detail: [{ type: 'missing', loc: ['body', 'payload'], msg: 'Field required' }] });
    expect(fake.chatRequests.map((r) => r.body)).toEqual(['{"model": ', '']);
  });

  it('checks in the gateway order: auth, body, validation, cluster, maintenance, framework, endpoint, model, liveness', async () => {
    expect((await post('/foo/api/v1/chat/completions', 'bad json', { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post('/foo/api/v1/chat/completions', 'bad json')).status).toBe(400);
    expect((await post('/foo/api/v1/chat/completions', chatBody({ model: 'nope', top_k: 1 }))).status).toBe(422);

    const cluster = await post('/foo/api/v1/chat/completions', chatBody());
    expect(cluster.status).toBe(404);
    expect(await cluster.json()).toEqual({
      error: { code: 'cluster_not_found', message: "The requested cluster 'foo' does not exist.", info: {} },
    });
    const framework = await post('/metis/vllm/v1/chat/completions', chatBody());
    expect(framework.status).toBe(400);
    expect(await framework.json()).toEqual({
      error: { code: 'unsupported_framework', message: 'framework vllm not available on cluster metis.', info: {} },
    });
    const endpoint = await post('/metis/api/v1/completions', { model: LIVE_MODEL, prompt: 'hi' });
    expect(endpoint.status).toBe(400);
    expect(await endpoint.json()).toEqual({
      error: { code: 'unsupported_endpoint', message: "'completions' not available on cluster 'metis'", info: {} },
    });
  });

  it('looks models up by slug: unknown → 404 with the slug, case variants resolve', async () => {
    const unknown = await post(CHAT, chatBody({ model: 'foo' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: { code: 'endpoint_not_found', message: "The requested endpoint 'metis-api-foo' does not exist.", info: {} },
    });
    const qwen = (await (await post(CHAT, chatBody({ model: 'qwen2.5-coder-0.5b' }))).json()) as any;
    expect(qwen.error.message).toBe("The requested endpoint 'metis-api-qwen25-coder-05b' does not exist.");

    for (const variant of ['meta-llama-3.3-70b-instruct', 'Meta-Llama-33-70B-Instruct']) {
      const res = await post(CHAT, chatBody({ model: variant }));
      expect(res.status, variant).toBe(200);
      expect(((await res.json()) as any).model).toBe(variant); // forwarded as sent
    }
  });

  it('fails fast on a model that is not Live, even when streaming', async () => {
    const res = await post(CHAT, chatBody({ model: 'DeepSeek-R1', stream: true }));
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe(
      '{"error": {"code": "internal_endpoint_error", "message": "\'DeepSeek-R1\' is not currently live on Metis.", "info": {}}}',
    );
    const stopped = (await (await post(CHAT, chatBody({ model: 'qwen2.5-coder-0.5b-instruct' }))).json()) as any;
    expect(stopped.error.message).toBe("'Qwen2.5-Coder-0.5B-Instruct' is not currently live on Metis.");
    fake.setStatus('DeepSeek-R1', 'Live');
    expect((await post(CHAT, chatBody({ model: 'DeepSeek-R1' }))).status).toBe(200);
  });

  it('answers 503 cluster_under_maintenance during maintenance', async () => {
    fake.setMaintenance('Metis is down for maintenance until 5pm');
    const res = await post(CHAT, chatBody());
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: 'cluster_under_maintenance', message: 'Metis is down for maintenance until 5pm', info: {} },
    });
    fake.setMaintenance(undefined);
    expect((await post(CHAT, chatBody())).status).toBe(200);
  });

  it('records each chat request that passed auth', async () => {
    await post(CHAT, chatBody({ stream: false }));
    expect(fake.chatRequests).toHaveLength(1);
    expect(fake.chatRequests[0]).toMatchObject({
      model: LIVE_MODEL,
      body: chatBody({ stream: false }),
      authorization: 'Bearer valid-token',
      path: `/resource_server${CHAT}`,
    });
  });
});

describe('answers (§5)', () => {
  it('returns a SambaNova chat.completion without streaming', async () => {
    const res = await post(CHAT, chatBody());
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"object": "chat.completion"'); // re-encoded by Ninja
    const body = JSON.parse(text);
    expect(body.choices).toEqual([
      { finish_reason: 'stop', index: 0, logprobs: null, message: { content: 'You said: hello there', role: 'assistant' } },
    ]);
    expect(body.usage).toMatchObject({ prompt_tokens: 3, is_last_response: true, stop_reason: 'stop' });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('streams the full reply and usage to the openai client', async () => {
    const stream = await openai().chat.completions.create({
      model: LIVE_MODEL,
      messages: [{ role: 'user', content: 'tell me about Metis' }],
      stream: true,
    });
    let text = '';
    let contentChunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        contentChunks++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('You said: tell me about Metis');
    expect(contentChunks).toBeGreaterThan(3);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: Math.ceil('tell me about Metis'.length / 4), completion_tokens: contentChunks });
    expect(fake.chatRequests[0]?.body.stream).toBe(true);
  });

  it('sends the SSE headers, a role chunk first, and [DONE] last', async () => {
    const res = await post(CHAT, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe('Cache-Control');
    const { text } = await readChunks(res);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const payloads = ssePayloads(text);
    const first = JSON.parse(payloads[0]!);
    expect(first.choices[0].delta).toEqual({ content: '', role: 'assistant' });
    expect(payloads[0]).not.toContain(': '); // SambaNova's compact JSON
    const usageChunk = JSON.parse(payloads[payloads.length - 2]!);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toHaveProperty('time_to_first_token');
  });

  it('splits the SSE body across many network writes', async () => {
    const res = await post(CHAT, chatBody({ stream: true }));
    const { chunks, text } = await readChunks(res);
    const events = ssePayloads(text).length;
    expect(chunks.length).toBeGreaterThan(events);
    expect(chunks.slice(0, -1).some((chunk) => !chunk.endsWith('\n\n'))).toBe(true); // a data: line straddles reads
  });

  it('still streams well-formed events with randomSplits off', async () => {
    await fake.close();
    fake = await startFakeGateway({ randomSplits: false, chunkDelayMs: 1, reply: () => 'fixed reply' });
    const { text } = await readChunks(await post(CHAT, chatBody({ stream: true })));
    const content = ssePayloads(text)
      .filter((p) => p !== '[DONE]')
      .map((p) => JSON.parse(p).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe('fixed reply');
  });

  it('puts DeepSeek-R1 reasoning inline, with the tags split across deltas', async () => {
    fake.setStatus('DeepSeek-R1', 'Live');
    const stream = await openai().chat.completions.create({
      model: 'DeepSeek-R1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const deltas: string[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
    const text = deltas.join('');
    expect(text).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\nYou said: hi$/);
    expect(deltas.some((d) => d.includes('</think>'))).toBe(false);
  });

  it('uses a reply function when one is set', async () => {
    fake.setReply(({ model, messages }) => `${model} saw ${messages.length}`);
    const body = (await (await post(CHAT, chatBody({ model: 'meta-llama-3.3-70b-instruct' }))).json()) as any;
    expect(body.choices[0].message.content).toBe(`${LIVE_MODEL} saw 1`);
  });
});

describe('faults', () => {
  it('in-band-error: 200, N content chunks, then the chatcmpl-api-error chunk and [DONE]', async () => {
    fake.injectChatFault({ kind: 'in-band-error', afterChunks: 2, message: '{"error":"Model is overloaded"}' });
    const res = await post(CHAT, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    const payloads = ssePayloads((await readChunks(res)).text);
    expect(payloads).toHaveLength(5); // role, 2 content, error, [DONE]
    expect(payloads[4]).toBe('[DONE]');
    const errorChunk = payloads[3]!;
    expect(errorChunk.startsWith('{"id": "chatcmpl-api-error", "object": "chat.completion.chunk", "created": ')).toBe(true);
    expect(JSON.parse(errorChunk)).toMatchObject({
      model: LIVE_MODEL,
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            content:
              '\n\n[ERROR] Error: Unexpected error calling stream API: Error: Could not send stream API call to ' +
              'https://metis.alcf.anl.gov/v1/chat/completions: {"error":"Model is overloaded"}',
          },
          finish_reason: 'stop',
        },
      ],
    });
    // The next request is unaffected: faults are used once each.
    expect((await post(CHAT, chatBody())).status).toBe(200);
  });

  it('in-band-error reaches the openai client as an ordinary chunk', async () => {
    fake.injectChatFault({ kind: 'in-band-error', afterChunks: 0 });
    const stream = await openai().chat.completions.create({ model: LIVE_MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    const ids: string[] = [];
    let content = '';
    for await (const chunk of stream) {
      ids.push(chunk.id);
      content += chunk.choices[0]?.delta.content ?? '';
    }
    expect(ids).toEqual(['chatcmpl-api-error']);
    expect(content).toBe(
      '\n\n[ERROR] Error: Unexpected error calling stream API: Error: Could not send stream API call to ' +
        'https://metis.alcf.anl.gov/v1/chat/completions: {"error":"upstream failure"}',
    );
  });

  it('in-band-error without streaming mirrors the upstream status (§8)', async () => {
    fake.injectChatFault({ kind: 'in-band-error', afterChunks: 0, message: "it's down" });
    const res = await post(CHAT, chatBody());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { code: 'internal_endpoint_error', message: 'Upstream endpoint returned 500: b"it\'s down".', info: {} },
    });
  });

  it('a request longer than the model\'s context window: SambaNova\'s context_length_exceeded, relayed as the gateway does (§2.4)', async () => {
    fake.setModels([{ name: LIVE_MODEL, status: 'Live', contextWindowTokens: 10 }]);
    // "hello there" is 3 tokens at 4 characters a token: it fits until max_tokens pushes it over.
    expect((await post(CHAT, chatBody({ max_tokens: 7 }))).status).toBe(200);
    const res = await post(CHAT, chatBody({ max_tokens: 8 }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; info: object } };
    expect(body.error.code).toBe('internal_endpoint_error');
    expect(body.error.info).toEqual({});
    expect(body.error.message).toMatch(/^Upstream endpoint returned 400: b'\{"error": ?\{"message": ?"The maximum context length of Meta-Llama-3\.3-70B-Instruct is 10\. However, answering your request will take 11 tokens\./);
    expect(body.error.message.length).toBeLessThan(256 + 60); // the first 256 bytes of the upstream body only

    const stream = await post(CHAT, chatBody({ stream: true, max_tokens: 8 }));
    expect(stream.status).toBe(200);
    const payloads = ssePayloads((await readChunks(stream)).text);
    expect(payloads).toHaveLength(2);
    expect(payloads[1]).toBe('[DONE]');
    const chunk = JSON.parse(payloads[0]!) as { id: string; choices: { delta: { content: string } }[] };
    expect(chunk.id).toBe('chatcmpl-api-error');
    expect(chunk.choices[0]?.delta.content).toContain('https://metis.alcf.anl.gov/v1/chat/completions: {"error":{"message":"The maximum context length of');
    expect(chunk.choices[0]?.delta.content).toContain('"code":"context_length_exceeded"');
  });

  it('drop: the stream breaks off without [DONE]', async () => {
    fake.injectChatFault({ kind: 'drop', afterChunks: 1 });
    const res = await post(CHAT, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    const { text, error } = await readChunks(res);
    expect(error).toBeDefined();
    expect(text).not.toContain('[DONE]');

    fake.injectChatFault({ kind: 'drop', afterChunks: 2 });
    const stream = await openai().chat.completions.create({ model: LIVE_MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toThrow();
  });

  it('status: sends the given error response verbatim, once', async () => {
    fake.injectChatFault({ kind: 'status', status: 429, body: { detail: 'Too many requests.' } });
    fake.injectChatFault({ kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>' });
    const throttled = await post(CHAT, chatBody({ stream: true }));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBeNull();
    expect(await throttled.json()).toEqual({ detail: 'Too many requests.' });
    const html = await post(CHAT, chatBody());
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toBe('<html><body>Bad Gateway</body></html>');
    expect((await post(CHAT, chatBody())).status).toBe(200);
  });

  it('garbage: non-JSON data lines that break a client parser', async () => {
    fake.injectChatFault({ kind: 'garbage' });
    const raw = await post(CHAT, chatBody({ stream: true }));
    expect(raw.status).toBe(200);
    expect(ssePayloads((await readChunks(raw)).text)).toContain('chunk1');

    fake.injectChatFault({ kind: 'garbage' });
    const stream = await openai().chat.completions.create({ model: LIVE_MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toThrow();
  });

  it('stall: close() returns promptly with the stalled stream open', async () => {
    fake.injectChatFault({ kind: 'stall', afterChunks: 1 });
    const res = await post(CHAT, chatBody({ stream: true }));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (ssePayloads(received).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(ssePayloads(received)).toHaveLength(2); // role chunk + one content chunk, then silence
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(reader.read()).rejects.toThrow();
  });
});
