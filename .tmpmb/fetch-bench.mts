import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { request, Agent } from 'undici';
const body = JSON.stringify({ ok: true, channel: 'C1', ts: '1700000000.000100', message: { text: 'hello world '.repeat(20), metadata: { event_type: 'x' } } });
const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }); res.end(body); }); });
await new Promise<void>((r) => server.listen(0, r));
const url = `http://127.0.0.1:${(server.address() as any).port}/api/chat.postMessage`;
const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
async function viaToWeb() {
  const res = await request(url, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, dispatcher });
  const r = new Response(Readable.toWeb(res.body) as any, { status: res.statusCode, headers: Object.entries(res.headers) as any });
  return r.json();
}
async function viaBuffer() {
  const res = await request(url, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, dispatcher });
  const buf = await res.body.arrayBuffer();
  const r = new Response(buf, { status: res.statusCode, headers: Object.entries(res.headers) as any });
  return r.json();
}
async function run(name: string, f: () => Promise<unknown>, n: number) {
  for (let i = 0; i < 2000; i++) await f();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, f));
  const c = process.cpuUsage(c0);
  console.log(name, ((c.user + c.system) / n / 1000).toFixed(3), 'ms cpu/call (incl. server)', ((performance.now() - t0) / n).toFixed(3), 'ms wall/call');
}
for (let k = 0; k < 2; k++) { await run('toWeb ', viaToWeb, 20000); await run('buffer', viaBuffer, 20000); }
server.close(); await dispatcher.close();
