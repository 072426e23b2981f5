/**
 * A small forward proxy on loopback, as a lab's would be: CONNECT tunnels (what
 * clients use for https, and undici for every request) and absolute-form
 * requests (plain http). It records which host:port each connection was for.
 */
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';

export interface TestProxy {
  url: string;
  /** host:port of every connection made through the proxy, in order. */
  targets: string[];
  close(): Promise<void>;
}

export async function startTestProxy(): Promise<TestProxy> {
  const targets: string[] = [];
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    targets.push(target.host);
    const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, client, head) => {
    const host = req.url ?? '';
    targets.push(host);
    const [name, port] = host.split(':');
    const upstream = connect(Number(port), name, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', end);
    client.on('error', end);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
