/**
 * Which models Metis offers and their status (Live, Starting, Queued,
 * Offline), shared by the whole fleet through Redis. A snapshot is fetched
 * from the gateway (list-endpoints + jobs + status) at most once per
 * freshness window however many people ask: one process holds a short Redis
 * lock and fetches; the others wait for its result. The last snapshot is kept,
 * so when the gateway cannot be reached the bot can still show the last known
 * status and its age.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AccessHealth } from '../auth/access-health.ts';
import { cachedRead } from '../cached-read.ts';
import { type AccessTokenSource, withAccessToken } from '../auth/access-token.ts';
import { type Clock, realClock } from '../clock.ts';
import { MetisError } from '../errors.ts';
import type { GatewayClient, ModelJob, ModelStatus } from '../gateway/client.ts';
import type { Logger } from '../logger.ts';
import { defaultModelProblem } from './model-names.ts';
import { WORDS } from '../words.ts';

export interface ModelInfo {
  name: string;
  /** Unknown when the jobs route failed. */
  status?: ModelStatus;
  description?: string;
}

export interface ModelSnapshot {
  framework: string;
  /** In the gateway's order (sorted by name). */
  models: ModelInfo[];
  /** The cluster reports maintenance (GET /status). */
  maintenance: boolean;
  fetchedAt: number;
}

export interface SnapshotView extends ModelSnapshot {
  /** The snapshot is older than asked for, because the gateway could not be reached. */
  stale: boolean;
  /** A maintenance notice the gateway gave recently, if any. */
  maintenanceNotice?: string;
}

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** How long the maintenance notice from a 503 stays shown. */
const NOTICE_TTL_MS = 15 * 60_000;

export class ModelCatalog {
  private readonly snapshotKey: string;
  private readonly lockKey: string;
  private readonly noticeKey: string;
  readonly freshMs: number;
  /** The default-model problem last logged, so a bad setting is logged once, not at every fetch. */
  private loggedDefaultProblem: string | undefined;
  private readonly clock: Clock;
  /** Every answer starts from the last snapshot: read (and parsed) at most once a second per process. */
  private readonly known = cachedRead(1000, () => ModelCatalog.lastKnown(this.deps.redis, this.deps.keyPrefix));

  constructor(
    private readonly deps: {
      gateway: GatewayClient;
      tokens: AccessTokenSource;
      health?: AccessHealth;
      redis: Redis;
      keyPrefix: string;
      logger: Logger;
      /** A snapshot younger than this is used as is (at most 60 s, as the gateway itself caches). */
      freshMs?: number;
      /** METIS_DEFAULT_MODEL, checked against each model list read. */
      defaultModel?: string;
      /** Dates snapshots and judges their age (default: the real clock). */
      clock?: Clock;
    },
  ) {
    this.clock = deps.clock ?? realClock;
    this.snapshotKey = `${deps.keyPrefix}:models:snapshot`;
    this.lockKey = `${deps.keyPrefix}:models:refresh-lock`;
    this.noticeKey = `${deps.keyPrefix}:models:maintenance-notice`;
    this.freshMs = deps.freshMs ?? 60_000;
  }

  /** The last snapshot any process fetched, however old (no gateway call), as read within the last second. */
  lastKnown(): Promise<SnapshotView | undefined> {
    return this.known();
  }

  static async lastKnown(redis: Redis, keyPrefix: string): Promise<SnapshotView | undefined> {
    const [raw, notice] = await redis.mget(`${keyPrefix}:models:snapshot`, `${keyPrefix}:models:maintenance-notice`);
    if (!raw) return undefined;
    return { ...(JSON.parse(raw) as ModelSnapshot), stale: false, ...(notice ? { maintenanceNotice: notice } : {}) };
  }

  /**
   * A snapshot no older than `maxAgeMs` (default: the freshness window). If
   * the gateway cannot be reached, the last known one, marked stale; if there
   * is none, the gateway's error.
   */
  async snapshot(maxAgeMs = this.freshMs, alreadyRead?: SnapshotView): Promise<SnapshotView> {
    const deadline = this.clock.now() + 15_000;
    let first = alreadyRead;
    for (;;) {
      const known = first ?? (await ModelCatalog.lastKnown(this.deps.redis, this.deps.keyPrefix));
      first = undefined;
      if (known && this.clock.now() - known.fetchedAt <= maxAgeMs) return known;
      const lockId = randomUUID();
      if ((await this.deps.redis.set(this.lockKey, lockId, 'PX', 20_000, 'NX')) === 'OK') {
        try {
          const fresh = await this.fetch();
          return { ...fresh, stale: false, ...(known?.maintenanceNotice ? { maintenanceNotice: known.maintenanceNotice } : {}) };
        } catch (err) {
          if (!known || (err instanceof MetisError && err.code === 'access_denied')) throw err;
          this.deps.logger.warn({ err, ageMs: this.clock.now() - known.fetchedAt }, 'model status unavailable; using the last known');
          return { ...known, stale: true };
        } finally {
          await this.deps.redis.eval(RELEASE_LOCK, 1, this.lockKey, lockId).catch(() => undefined);
        }
      }
      // Another process is fetching: wait for its snapshot rather than asking the gateway too.
      if (this.clock.now() > deadline) {
        if (known) return { ...known, stale: true };
        throw new MetisError('gateway_unavailable', 'timed out waiting for the model list', {}, true);
      }
      await this.clock.sleep(50);
    }
  }

  private async fetch(): Promise<ModelSnapshot> {
    const { gateway, tokens, health } = this.deps;
    const list = await withAccessToken(tokens, (token) => gateway.listModels(token), health);
    let jobs: Map<string, ModelJob> | undefined;
    try {
      jobs = await withAccessToken(tokens, (token) => gateway.modelStatuses(token), health);
    } catch (err) {
      // Without status we can still answer; the gateway's own live check decides.
      this.deps.logger.warn({ err }, 'model status unavailable; listing models without it');
    }
    this.checkDefaultModel(list.models);
    const up = await gateway.clusterUp();
    const snapshot: ModelSnapshot = {
      framework: list.framework,
      models: list.models.map((name) => {
        const job = jobs?.get(name);
        return { name, ...(jobs ? { status: job?.status ?? 'Offline' } : {}), ...(job?.description ? { description: job.description } : {}) };
      }),
      maintenance: up === false,
      fetchedAt: this.clock.now(),
    };
    await this.deps.redis.set(this.snapshotKey, JSON.stringify(snapshot));
    if (!snapshot.maintenance) await this.deps.redis.del(this.noticeKey);
    this.known.forget();
    return snapshot;
  }

  /** Logs (once per process and value) a METIS_DEFAULT_MODEL that names no model Metis offers. */
  private checkDefaultModel(names: string[]): void {
    const problem = defaultModelProblem(names, this.deps.defaultModel);
    const key = problem ? JSON.stringify(problem) : undefined;
    if (key === this.loggedDefaultProblem) return;
    this.loggedDefaultProblem = key;
    if (!problem) return;
    this.deps.logger.warn(
      { setting: 'METIS_DEFAULT_MODEL', value: problem.configured, suggestion: problem.suggestion, models: names.slice(0, 20) },
      'METIS_DEFAULT_MODEL names no model Metis offers; questions without a model use the first Live model instead',
    );
  }

  /** Remembers the maintenance notice a 503 carried, to show it in the model list. */
  async noteMaintenance(notice: string | undefined): Promise<void> {
    await this.deps.redis.set(this.noticeKey, notice || WORDS.maintenance_default_notice(), 'PX', NOTICE_TTL_MS);
    this.known.forget();
  }
}
