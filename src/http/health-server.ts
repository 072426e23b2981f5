/**
 * The operator's endpoints, on PORT for processes that have no Slack HTTP
 * receiver (Socket Mode listeners and workers) and as custom routes of Bolt's
 * receiver in HTTP mode:
 *   GET /livez    the process serves (always 200 while it does)
 *   GET /readyz   every dependency this process needs works; 503 naming the ones that do not
 *   GET /healthz  the earlier check (Redis reachable), kept for existing probes
 *   GET /metrics  Prometheus text
 * Everything else is 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { registry } from '../metrics/registry.ts';

export type HealthCheck = () => Promise<{ ok: boolean; details: Record<string, unknown> }>;

/** One dependency's readiness: undefined when it works, else the reason it does not (no secrets). */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<string | undefined> | string | undefined;
}

export interface OpsEndpoints {
  health: HealthCheck;
  readiness: ReadinessCheck[];
  /** The Prometheus text: this thread's registry unless the process has more to add (an answer thread). */
  metrics?: () => Promise<string>;
}

/** A check that has not answered within this long counts as failed, so a probe never hangs. */
const CHECK_TIMEOUT_MS = 2_000;

export const OPS_PATHS = ['/livez', '/readyz', '/healthz', '/metrics'] as const;

export async function healthResponse(check: HealthCheck): Promise<{ status: number; body: string }> {
  const result = await check().catch((err: unknown) => ({ ok: false, details: { error: String(err) } }));
  return { status: result.ok ? 200 : 503, body: JSON.stringify({ status: result.ok ? 'ok' : 'unhealthy', ...result.details }) };
}

export async function readinessResponse(checks: ReadinessCheck[]): Promise<{ status: number; body: string }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((r) => {
        timer = setTimeout(() => r(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
      });
      const reason = await Promise.race([Promise.resolve().then(check), timeout]).catch((err: unknown) => `check failed: ${(err as Error)?.message ?? String(err)}`);
      clearTimeout(timer);
      return [name, reason] as const;
    }),
  );
  const failing = Object.fromEntries(results.filter(([, reason]) => reason !== undefined));
  const ready = Object.keys(failing).length === 0;
  return {
    status: ready ? 200 : 503,
    body: JSON.stringify({ status: ready ? 'ready' : 'unready', checks: Object.fromEntries(results.map(([n, r]) => [n, r ?? 'ok'])), ...(ready ? {} : { failing }) }),
  };
}

/** Answers one of OPS_PATHS; false when the request is not for one of them. */
export function handleOpsRequest(ops: OpsEndpoints, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || !(OPS_PATHS as readonly string[]).includes(path ?? '')) return false;
  const send = (status: number, contentType: string, body: string) => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  };
  const json = ({ status, body }: { status: number; body: string }) => send(status, 'application/json', body);
  const failed = (err: unknown) => send(500, 'application/json', JSON.stringify({ status: 'error', error: String(err) }));
  if (path === '/livez') json({ status: 200, body: JSON.stringify({ status: 'live' }) });
  else if (path === '/readyz') readinessResponse(ops.readiness).then(json, failed);
  else if (path === '/healthz') healthResponse(ops.health).then(json, failed);
  else (ops.metrics ?? (() => registry.metrics()))().then((text) => send(200, registry.contentType, text), failed);
  return true;
}

export async function startHealthServer(port: number, ops: OpsEndpoints): Promise<Server> {
  const server = createServer((req, res) => {
    if (!handleOpsRequest(ops, req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
