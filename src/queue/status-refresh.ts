/**
 * Model status for processes without Metis access (the Slack listener): they
 * read the shared snapshot from Redis, and when it is stale they ask the
 * workers — through a small queue — to fetch a new one, then wait briefly.
 * One refresh job per freshness window, however many people ask.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { ModelCatalog, type SnapshotView } from '../models/catalog.ts';

export const STATUS_QUEUE = 'model-status';

export class ModelStatusReader {
  private readonly queue: Queue;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly freshMs: number,
    connection: Redis,
  ) {
    this.queue = new Queue(STATUS_QUEUE, {
      connection,
      prefix: keyPrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    // Connection trouble is logged by the connection's owner; the queue must not crash on it.
    this.queue.on('error', () => undefined);
  }

  /** The last snapshot fetched, however old (no waiting). */
  lastKnown(): Promise<SnapshotView | undefined> {
    return ModelCatalog.lastKnown(this.redis, this.keyPrefix);
  }

  /**
   * A snapshot as fresh as the workers can get within `waitMs`; the last known
   * one (marked stale, with when the gateway last failed) if not; undefined
   * when no snapshot was ever fetched.
   */
  async read(waitMs = 2000): Promise<SnapshotView | undefined> {
    const known = await ModelCatalog.lastKnown(this.redis, this.keyPrefix);
    if (known && Date.now() - known.fetchedAt <= this.freshMs) return known;
    const bucket = Math.floor(Date.now() / this.freshMs);
    await this.queue.add('refresh', {}, { jobId: `refresh-${bucket}` });
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await ModelCatalog.lastKnown(this.redis, this.keyPrefix);
      if (now && Date.now() - now.fetchedAt <= this.freshMs) return now;
    }
    const last = await ModelCatalog.lastKnown(this.redis, this.keyPrefix);
    return last ? { ...last, stale: true } : undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** The worker side: fetches a snapshot (single-flight across the fleet, inside the catalog). */
export function createStatusRefreshWorker(opts: { connection: Redis; prefix: string; catalog: ModelCatalog; logger: Logger }): Worker {
  const worker = new Worker(
    STATUS_QUEUE,
    async () => {
      const s = await opts.catalog.snapshot();
      return { fetchedAt: s.fetchedAt, stale: s.stale };
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => opts.logger.warn({ err }, 'model status refresh failed'));
  worker.on('error', (err) => opts.logger.warn({ err }, 'model status worker error'));
  return worker;
}
