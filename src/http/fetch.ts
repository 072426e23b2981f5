/**
 * The `fetch` under the Slack Web API client and the gateway client in
 * workers. The global fetch spends more CPU per call on its request machinery
 * than the call itself costs (`npm run bench -- --cpu-prof` put it and the GC
 * it causes at the top of a worker's profile); undici's `request` API over a
 * keep-alive pool does the same HTTP/1.1 exchange for about half the CPU. The
 * answer is still a standard `Response`, so both clients work unchanged.
 *
 * Bodies other than strings, bytes and form parameters (file uploads, which
 * the bot never sends) go through the global fetch.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { proxyAwareDispatcher } from './proxy.ts';

type Fetch = typeof globalThis.fetch;

/** Statuses whose responses carry no body (a `Response` with one would throw). */
const NO_BODY = new Set([101, 204, 205, 304]);

function headerRecord(init: RequestInit['headers']): Record<string, string> {
  if (!init) return {};
  if (init instanceof Headers || Array.isArray(init)) return Object.fromEntries(init instanceof Headers ? init.entries() : init);
  return { ...(init as Record<string, string>) }; // a copy: a content type may be added
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

export interface PooledFetch {
  fetch: Fetch;
  /**
   * Closes the pool at shutdown: calls still in flight get `graceMs` to end,
   * then are cut (by then the worker has handed their answers back).
   */
  close(graceMs?: number): Promise<void>;
}

export function createPooledFetch(): PooledFetch {
  // Idle connections stay open a little longer than the bot's busiest gaps (a streaming edit a second).
  // It follows HTTPS_PROXY / NO_PROXY like every other connection of the bot (see proxy.ts).
  const dispatcher = proxyAwareDispatcher({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
  // Calls whose answer has not been read to the end yet (so shutdown knows when it may cut the pool).
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const ended = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };

  const pooledFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array) && !(body instanceof URLSearchParams))) {
      return globalThis.fetch(input, init);
    }
    const headers = headerRecord(init?.headers);
    if (body instanceof URLSearchParams && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    inFlight++;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(input, {
        method: (init?.method ?? 'GET') as 'GET',
        headers,
        body: body instanceof URLSearchParams ? body.toString() : (body ?? undefined),
        signal: init?.signal ?? undefined,
        dispatcher,
      });
    } catch (err) {
      ended();
      throw err;
    }
    res.body.once('close', ended);
    const status = res.statusCode;
    if (NO_BODY.has(status)) res.body.resume();
    // Readable.toWeb passes on an error of the connection (a Response built from the body as an iterable does not).
    return new Response(NO_BODY.has(status) ? null : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>), {
      status,
      headers: responseHeaders(res.headers),
    });
  };
  return {
    fetch: pooledFetch as Fetch,
    async close(graceMs = 1000) {
      let timer: NodeJS.Timeout | undefined;
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
      }
      // Closes idle connections, and cuts any call still running (undici's close() would wait for it).
      await dispatcher.destroy();
    },
  };
}
