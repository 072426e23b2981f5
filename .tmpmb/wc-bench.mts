import { createServer } from 'node:http';
import { createPooledFetch } from '../src/http/fetch.ts';
import { createWebClient } from '../src/reply/web-client.ts';
import { createLogger } from '../src/logger.ts';
import OpenAI from 'openai';
const body = JSON.stringify({ ok: true, channel: 'C1', ts: '1700000000.000100', message: { text: 'hello world '.repeat(20) } });
const sse = ['{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}', ...Array.from({length:6},(_, i)=>`{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"word${i} "}}]}`), '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}', '[DONE]'].map((d) => `data: ${d}\n\n`).join('');
const server = createServer((req, res) => { req.resume(); req.on('end', () => {
  if (req.url?.includes('chat/completions')) { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.end(sse); return; }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }); res.end(body); }); });
await new Promise<void>((r) => server.listen(0, r));
const base = `http://127.0.0.1:${(server.address() as any).port}`;
const pooled = createPooledFetch();
const logger = createLogger('info');
const wc = createWebClient('xoxb-1', `${base}/api/`, logger, pooled.fetch);
const oa = new OpenAI({ apiKey: 'k', baseURL: `${base}/v1`, fetch: pooled.fetch, maxRetries: 0 });
const raw = async () => { const r = await pooled.fetch(`${base}/api/chat.postMessage`, { method: 'POST', body: new URLSearchParams({ channel: 'C1', text: 'hi' }) }); return r.json(); };
const slack = () => wc.chat.postMessage({ channel: 'C1', text: 'hello '.repeat(50), blocks: [{ type: 'markdown', text: 'hello '.repeat(50) }] as any, metadata: { event_type: 'metis_answer', event_payload: { request_id: 'r1' } } });
const model = async () => { const s = await oa.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }); let t = ''; for await (const c of s) t += c.choices[0]?.delta?.content ?? ''; return t; };
const rawSse = async () => { const r = await pooled.fetch(`${base}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }), headers: { 'content-type': 'application/json' } }); return r.text(); };
async function run(name: string, f: () => Promise<unknown>, n: number) {
  for (let i = 0; i < 2000; i++) await f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, f));
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(10), ((c.user + c.system) / n / 1000).toFixed(3), 'ms cpu/call (incl. server)');
}
for (let k = 0; k < 2; k++) { await run('raw fetch', raw, 10000); await run('WebClient', slack, 10000); await run('raw SSE', rawSse, 10000); await run('openai', model, 10000); }
server.close(); await pooled.close();
