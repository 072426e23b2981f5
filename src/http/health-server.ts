/**
 * GET /healthz on PORT, for processes that have no Slack HTTP receiver
 * (Socket Mode listeners and workers). Everything else is 404.
 */
import { createServer, type Server } from 'node:http';

export type HealthCheck = () => Promise<{ ok: boolean; details: Record<string, unknown> }>;

export async function healthResponse(check: HealthCheck): Promise<{ status: number; body: string }> {
  const result = await check().catch((err: unknown) => ({ ok: false, details: { error: String(err) } }));
  return { status: result.ok ? 200 : 503, body: JSON.stringify({ status: result.ok ? 'ok' : 'unhealthy', ...result.details }) };
}

export async function startHealthServer(port: number, check: HealthCheck): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      void healthResponse(check).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
