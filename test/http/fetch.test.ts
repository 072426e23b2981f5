/**
 * The pooled fetch under the Slack and gateway clients, against a real HTTP
 * server: it must behave as fetch does for everything those clients rely on
 * (status, repeated headers, form and JSON bodies, a body that streams, an
 * abort mid-stream, a refused connection) and keep its connections alive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledFetch } from '../../src/http/fetch.ts';
import { freePort } from '../helpers/redis-server.ts';
import { gate } from '../helpers/wait.ts';

let server: Server;
let base: string;
const sockets = new Set<unknown>();
const seen: { method: string; contentType?: string; body: string }[] = [];
const { opened: firstChunkRead, open: firstChunkReadNow } = gate();

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>> = {
  '/echo': async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method ?? '', contentType: req.headers['content-type'], body });
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.writeHead(201, { 'content-type': 'application/json', 'retry-after': '3' }).end(JSON.stringify({ got: body }));
  },
  '/empty': (_req, res) => {
    res.writeHead(204).end();
  },
  // Two chunks: the second is sent only once the test has read the first, so a body handed over only at its end never is.
  '/stream': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    void firstChunkRead.then(() => res.end('data: two\n\n'));
  },
  // Sends one chunk and never finishes.
  '/hang': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
  },
};

beforeAll(async () => {
  server = createServer((req, res) => void routes[req.url ?? '']?.(req, res));
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('pooled fetch', () => {
  it('sends form and JSON bodies and reads status, repeated headers and JSON back', async () => {
    const { fetch, close } = createPooledFetch();
    const form = await fetch(`${base}/echo`, { method: 'POST', body: new URLSearchParams({ channel: 'C1', text: 'hé & co' }) });
    expect(form.status).toBe(201);
    expect(form.headers.get('retry-after')).toBe('3');
    expect(form.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await form.json()).toEqual({ got: 'channel=C1&text=h%C3%A9+%26+co' });
    expect(seen.at(-1)?.contentType).toMatch(/^application\/x-www-form-urlencoded/);

    const json = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await json.json()).toEqual({ got: '{"a":1}' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', contentType: 'application/json' });
    await close();
  });

  it('gives a bodiless status a null body', async () => {
    const { fetch, close } = createPooledFetch();
    const res = await fetch(`${base}/empty`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    await close();
  });

  it('hands over a streamed body chunk by chunk, not at the end', async () => {
    const { fetch, close } = createPooledFetch();
    const res = await fetch(`${base}/stream`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe('data: one\n\n');
    firstChunkReadNow();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
    expect(rest).toBe('data: two\n\n');
    await close();
  });

  it('stops a hanging stream when its signal aborts', async () => {
    const { fetch, close } = createPooledFetch();
    const abort = new AbortController();
    const res = await fetch(`${base}/hang`, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    setTimeout(() => abort.abort(), 50);
    await expect(reader.read()).rejects.toThrow();
    await close();
  });

  it('rejects when nothing listens, as fetch does', async () => {
    const { fetch, close } = createPooledFetch();
    await expect(fetch(`http://127.0.0.1:${await freePort()}/`)).rejects.toThrow();
    await close();
  });

  it('keeps connections alive: 20 calls one after another open at most two', async () => {
    const { fetch, close } = createPooledFetch();
    const before = sockets.size;
    // A call can start a moment before the pool has taken back the previous call's connection, hence two, not one.
    for (let i = 0; i < 20; i++) await (await fetch(`${base}/echo`, { method: 'POST', body: String(i) })).text();
    expect(sockets.size - before).toBeLessThanOrEqual(2);
    await close();
  });
});

describe('pooled fetch at shutdown', () => {
  it('gives a call in flight its grace period, then cuts it instead of waiting for it', async () => {
    const { fetch, close } = createPooledFetch();
    const res = await fetch(`${base}/hang`);
    const reading = res.text();
    reading.catch(() => undefined);
    const started = Date.now();
    await close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(reading).rejects.toThrow();
  });
});
