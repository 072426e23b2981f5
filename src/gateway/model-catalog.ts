/**
 * Which models Metis offers and which are Live, cached in Redis so the whole
 * fleet asks the gateway at most about once per TTL; and how a name or
 * fragment a person typed becomes one exact model name.
 */
import type { Redis } from 'ioredis';
import { MetisError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AccessHealth } from '../auth/access-health.ts';
import { type AccessTokenSource, withAccessToken } from '../auth/access-token.ts';
import type { GatewayClient, ModelStatus } from './client.ts';

export interface ModelSnapshot {
  framework: string;
  /** In the gateway's order (sorted by name). */
  models: { name: string; status?: ModelStatus }[];
  fetchedAt: number;
}

export class ModelCatalog {
  private readonly cacheKey: string;

  constructor(
    private readonly deps: {
      gateway: GatewayClient;
      tokens: AccessTokenSource;
      health?: AccessHealth;
      redis: Redis;
      keyPrefix: string;
      logger: Logger;
      ttlMs?: number;
    },
  ) {
    this.cacheKey = `${deps.keyPrefix}:models:snapshot`;
  }

  async snapshot(): Promise<ModelSnapshot> {
    const cached = await this.deps.redis.get(this.cacheKey);
    if (cached) return JSON.parse(cached) as ModelSnapshot;
    const list = await withAccessToken(this.deps.tokens, (token) => this.deps.gateway.listModels(token), this.deps.health);
    let statuses: Map<string, ModelStatus> | undefined;
    try {
      statuses = await withAccessToken(this.deps.tokens, (token) => this.deps.gateway.modelStatuses(token), this.deps.health);
    } catch (err) {
      // Without status we can still answer; the gateway's own live check decides.
      this.deps.logger.warn({ err }, 'model status unavailable; continuing without it');
    }
    const snapshot: ModelSnapshot = {
      framework: list.framework,
      models: list.models.map((name) => ({ name, status: statuses ? (statuses.get(name) ?? 'Offline') : undefined })),
      fetchedAt: Date.now(),
    };
    await this.deps.redis.set(this.cacheKey, JSON.stringify(snapshot), 'PX', this.deps.ttlMs ?? 30_000);
    return snapshot;
  }
}

/**
 * The exact model to use. `requested` may be an exact name or a unique
 * case-insensitive fragment; without it, the configured default, else the
 * first Live model, else the first listed.
 */
export function chooseModel(snapshot: ModelSnapshot, requested: string | undefined, configuredDefault: string | undefined): string {
  const names = snapshot.models.map((m) => m.name);
  if (names.length === 0) throw new MetisError('no_models', 'list-endpoints returned no models for the cluster');
  if (requested !== undefined) {
    if (names.includes(requested)) return requested;
    const lower = requested.toLowerCase();
    const exact = names.filter((n) => n.toLowerCase() === lower);
    if (exact.length === 1) return exact[0] as string;
    const matches = names.filter((n) => n.toLowerCase().includes(lower));
    if (matches.length === 1) return matches[0] as string;
    if (matches.length > 1) throw new MetisError('ambiguous_model', `"${requested}" matches ${matches.length} models`, { model: requested, models: matches });
    throw new MetisError('unknown_model', `no model matches "${requested}"`, { model: requested, models: names });
  }
  if (configuredDefault) return configuredDefault;
  const live = snapshot.models.find((m) => m.status === 'Live');
  return (live ?? snapshot.models[0])?.name as string;
}
