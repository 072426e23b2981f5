/**
 * The HTTP front of the listener in HTTP mode: our own server before Bolt's
 * HTTPReceiver, because Bolt buffers up to 4 MB of a body before it looks at
 * the signature and its server has no timeouts. Here a request to
 * /slack/events is refused on its headers alone when the signature is
 * missing, malformed or dated more than 5 minutes from now (either way); its
 * body is capped at what Slack sends; only a bounded number of requests may
 * be unverified (still arriving) at once; the HMAC is checked and a
 * signature already used is refused fleet-wide. Only then does Bolt see it,
 * already buffered (so Bolt reads nothing more itself).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { type CustomRoute, ErrorCode, HTTPReceiver, type Logger as BoltLogger, type App, type Receiver } from '@slack/bolt';
import type { Logger } from '../logger.ts';
import { checkSignatureHeaders, type SeenSignatures, signatureMatches } from './request-signature.ts';

export interface HttpIntakeLimits {
  /** Largest body accepted on /slack/events; larger is refused with 413 as soon as that is known. */
  maxBodyBytes: number;
  /** Requests whose body is still arriving (not yet verified); past this, the oldest is dropped. */
  maxUnverified: number;
  /** Time for a connection to send its request headers. */
  headersTimeoutMs: number;
  /** Time for a whole request (headers and body) to arrive. */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed. */
  idleTimeoutMs: number;
  /** How often Node checks the header and request deadlines (they are only as precise as this). */
  timeoutCheckIntervalMs: number;
}

/**
 * Slack's largest payloads for this app are interactive ones (a message
 * shortcut carries the whole message): a message's text is at most 40,000
 * characters and its blocks 50 × 3,000, so even in 3-byte UTF-8 and
 * percent-encoded as a form field a real one stays well under 512 KiB.
 * 64 unverified bodies at that size bound what strangers can make us hold
 * to 32 MB. Slack expects an answer within 3 s, so a request that has not
 * arrived within 10 s is never one worth waiting for.
 */
export const DEFAULT_HTTP_INTAKE_LIMITS: HttpIntakeLimits = {
  maxBodyBytes: 512 * 1024,
  maxUnverified: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  timeoutCheckIntervalMs: 1_000,
};

const EVENTS_PATH = '/slack/events';
/** An unsigned `ssl_check=1&token=…` form is all Slack sends without a signature. */
const SSL_CHECK_MAX_BYTES = 1024;
/** A refused request whose body is still coming is cut off after this, once the refusal had time to be read. */
const REFUSAL_LINGER_MS = 1_000;
/** Refusals are counted and logged at most this often, so a flood does not become a flood of log lines. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

type Refusal = 'missing' | 'malformed' | 'stale' | 'future' | 'too-large' | 'bad-signature' | 'replay' | 'evicted' | 'store-unavailable';

export class SlackHttpIntake implements Receiver {
  private readonly bolt: HTTPReceiver;
  private readonly limits: HttpIntakeLimits;
  private readonly now: () => number;
  private server?: Server;
  /** Requests whose body is still arriving, oldest first (a Map keeps insertion order). */
  private readonly unverified = new Map<IncomingMessage, () => void>();
  private refusals: Partial<Record<Refusal, number>> = {};
  private lastRefusalLogAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: {
      signingSecret: string;
      seen: SeenSignatures;
      logger: Logger;
      boltLogger?: BoltLogger;
      customRoutes?: CustomRoute[];
      limits?: Partial<HttpIntakeLimits>;
      /** The clock signatures are dated against (tests inject one). */
      now?: () => number;
    },
  ) {
    this.limits = { ...DEFAULT_HTTP_INTAKE_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.bolt = new HTTPReceiver({
      // Verified here, once, with our clock and our window; Bolt gets only verified requests.
      signatureVerification: false,
      signingSecret: opts.signingSecret,
      processBeforeResponse: true,
      customRoutes: opts.customRoutes ?? [],
      logger: opts.boltLogger,
    });
  }

  /** How many requests are unverified right now (for tests and the benchmark). */
  get unverifiedCount(): number {
    return this.unverified.size;
  }

  init(app: App): void {
    this.bolt.init(app);
  }

  start(port: number): Promise<Server> {
    const l = this.limits;
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        connectionsCheckingInterval: l.timeoutCheckIntervalMs,
      },
      (req, res) => this.route(req, res),
    );
    server.setTimeout(l.idleTimeoutMs);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const drop of this.unverified.values()) drop();
    const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    server.closeIdleConnections();
    await closed;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && path === EVENTS_PATH) {
      this.intake(req, res).catch((err: unknown) => {
        this.opts.logger.error({ err }, 'Slack HTTP intake failed');
        if (!res.headersSent) res.writeHead(500, { connection: 'close' }).end();
      });
      return;
    }
    this.toBolt(req, res);
  }

  private async intake(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = checkSignatureHeaders(req.headers, this.now());
    if (!headers.ok) {
      if (headers.reason === 'missing' && this.maySslCheck(req)) return this.sslCheck(req, res);
      return this.refuse(req, res, 401, headers.reason);
    }
    if (this.declaredLength(req) > this.limits.maxBodyBytes) return this.refuse(req, res, 413, 'too-large');
    const body = await this.readUnverified(req, this.limits.maxBodyBytes);
    if (body === 'gone') return;
    if (body === 'too-large') return this.refuse(req, res, 413, 'too-large');
    if (!signatureMatches(this.opts.signingSecret, headers.timestampSeconds, body, headers.signature)) {
      return this.refuse(req, res, 401, 'bad-signature');
    }
    let first: boolean;
    try {
      first = await this.opts.seen.claim(headers.signature);
    } catch (err) {
      // Without the record a replay cannot be told apart. Answered as a failed enqueue is (500): Slack redelivers.
      this.opts.logger.warn({ err }, 'cannot record a Slack request signature (Redis); answering 500');
      return this.refuse(req, res, 500, 'store-unavailable');
    }
    if (!first) return this.refuse(req, res, 401, 'replay');
    res.once('close', () => {
      const answered = res.headersSent && res.statusCode >= 200 && res.statusCode < 300;
      if (answered) return;
      // Not answered with a 2xx: Slack will redeliver, and an unchanged redelivery must not look like a replay.
      this.opts.seen.release(headers.signature).catch((err: unknown) => this.opts.logger.warn({ err }, 'cannot release a Slack request signature'));
    });
    Object.assign(req, { rawBody: body });
    this.toBolt(req, res);
  }

  private toBolt(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.bolt.requestListener(req, res);
    } catch (err) {
      if ((err as { code?: string }).code === ErrorCode.HTTPReceiverDeferredRequestError) {
        res.writeHead(404).end();
        return;
      }
      this.opts.logger.error({ err }, 'Slack HTTP request failed');
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  private declaredLength(req: IncomingMessage): number {
    const value = req.headers['content-length'];
    return value === undefined ? 0 : Number(value);
  }

  private maySslCheck(req: IncomingMessage): boolean {
    return req.headers['content-type'] === 'application/x-www-form-urlencoded' && this.declaredLength(req) <= SSL_CHECK_MAX_BYTES;
  }

  private async sslCheck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readUnverified(req, SSL_CHECK_MAX_BYTES);
    if (body === 'gone') return;
    if (body === 'too-large' || parseForm(body.toString()).ssl_check !== '1') return this.refuse(req, res, 401, 'missing');
    res.writeHead(200).end();
  }

  /**
   * Reads a body of at most `maxBytes` while holding one of the unverified
   * places; when they are all taken, the oldest holder is dropped: Slack's
   * own requests arrive whole in milliseconds, so the oldest is the one
   * least likely to be Slack.
   */
  private readUnverified(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'gone'> {
    if (this.unverified.size >= this.limits.maxUnverified) {
      const [oldest, drop] = this.unverified.entries().next().value as [IncomingMessage, () => void];
      this.unverified.delete(oldest);
      drop();
      this.noteRefusal('evicted');
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (result: Buffer | 'too-large' | 'gone') => {
        if (settled) return;
        settled = true;
        this.unverified.delete(req);
        req.off('data', onData);
        chunks.length = 0;
        resolve(result);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) settle('too-large');
        else chunks.push(chunk);
      };
      this.unverified.set(req, () => {
        req.socket.destroy();
        settle('gone');
      });
      req.on('data', onData);
      req.once('end', () => settle(Buffer.concat(chunks, size)));
      req.once('close', () => settle('gone'));
      req.once('error', () => settle('gone'));
    });
  }

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: Refusal): void {
    this.noteRefusal(reason);
    res.once('finish', () => {
      // What is left of the body is discarded as it comes, but not for long.
      if (!req.complete) setTimeout(() => req.socket.destroy(), REFUSAL_LINGER_MS).unref();
    });
    res.writeHead(status, { connection: 'close' }).end();
  }

  private noteRefusal(reason: Refusal): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    const at = Date.now();
    if (at - this.lastRefusalLogAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.opts.logger.warn({ refused: this.refusals, sinceMs: Number.isFinite(this.lastRefusalLogAt) ? at - this.lastRefusalLogAt : 0 }, 'refused Slack HTTP requests');
    this.refusals = {};
    this.lastRefusalLogAt = at;
  }
}
