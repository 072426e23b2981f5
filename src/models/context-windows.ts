/**
 * How many tokens each model takes (prompt and answer together). In order:
 * what the gateway says (`capabilities.context_window_tokens` from GET
 * /{cluster}/models), else METIS_MODEL_CONTEXT_TOKENS, else a safe 8,192. A
 * limit learned from the gateway refusing a prompt as too long is shared by
 * the fleet through Redis for a while, and wins whenever it is lower: it is
 * what the model behind the gateway actually enforced.
 */
import { type CachedRead, cachedRead } from '../cached-read.ts';
import { redisKeys } from '../redis-keys.ts';
import type { Redis } from 'ioredis';
import { isMetisError } from '../errors.ts';
import type { ModelDetails } from '../gateway/client.ts';
import type { Logger } from '../logger.ts';

/** Small enough for every model Metis has served (Mistral-Large-3's 8,192 is the smallest seen). */
export const DEFAULT_CONTEXT_TOKENS = 8192;
/** A model can be redeployed with another window: what a refusal taught is forgotten after a day. */
export const LEARNED_TTL_MS = 24 * 3_600_000;
/** The gateway's model descriptions change with deployments, not by the minute. */
export const DESCRIBE_FRESH_MS = 10 * 60_000;
/** After a failed read of the descriptions, how long before trying again. */
const DESCRIBE_RETRY_MS = 60_000;
/** How stale another process's lesson may be here: a question fitted to the old window is refused once and refitted. */
const LEARNED_READ_MS = 5_000;
/** Below this, a number read from an error message is not a context window. */
const LEAST_BELIEVABLE_WINDOW = 256;

export type WindowSource = 'learned' | 'gateway' | 'setting' | 'default';

export interface ContextWindow {
  tokens: number;
  source: WindowSource;
}

export interface ContextWindowsDeps {
  redis: Redis;
  keyPrefix: string;
  /** METIS_MODEL_CONTEXT_TOKENS. */
  configured: ReadonlyMap<string, number>;
  /** The gateway's descriptions (GatewayClient.models with a current token); 'unknown' when it has none. */
  describe: () => Promise<ReadonlyMap<string, ModelDetails> | 'unknown'>;
  logger: Logger;
  now?: () => number;
  defaultTokens?: number;
  learnedTtlMs?: number;
  describeFreshMs?: number;
}

interface Learned {
  tokens: number;
  at: number;
}

export class ContextWindows {
  private readonly now: () => number;
  private readonly configured: ReadonlyMap<string, number>;
  private described: { value: ReadonlyMap<string, ModelDetails> | 'unknown'; nextAt: number } | undefined;
  private describing: Promise<ReadonlyMap<string, ModelDetails> | 'unknown'> | undefined;
  /** Every model's learned limit, read once per LEARNED_READ_MS per process (not once per answer). */
  private readonly learnedAll: CachedRead<Record<string, string>>;

  constructor(private readonly deps: ContextWindowsDeps) {
    this.now = deps.now ?? Date.now;
    this.learnedAll = cachedRead(LEARNED_READ_MS, () => deps.redis.hgetall(this.learnedKey()), this.now);
    // Operators write names as they remember them; the gateway matches names without regard to case too.
    this.configured = new Map([...deps.configured].map(([name, tokens]) => [name.toLowerCase(), tokens]));
  }

  private learnedKey(): string {
    return redisKeys(this.deps.keyPrefix).contextWindowsLearned();
  }

  /** The window of one model. */
  async windowOf(model: string): Promise<ContextWindow> {
    return (await this.windowsOf([model])).get(model) as ContextWindow;
  }

  /** The windows of several models (e.g. every Live one), with one read of Redis. */
  async windowsOf(models: readonly string[]): Promise<Map<string, ContextWindow>> {
    const out = new Map<string, ContextWindow>();
    if (models.length === 0) return out;
    const [described, learned] = await Promise.all([this.descriptions(), this.learned(models)]);
    models.forEach((model, i) => {
      const base = this.baseWindow(model, described);
      const taught = learned[i];
      out.set(model, taught !== undefined && taught < base.tokens ? { tokens: taught, source: 'learned' } : base);
    });
    return out;
  }

  /**
   * Learns from the gateway refusing a prompt as too long (a MetisError
   * `context_too_long` carrying the limit it named). Returns the model's new
   * window when it is smaller than the one the prompt was fitted to, so a
   * trimmed prompt is worth one more try; otherwise undefined.
   */
  async learnFrom(err: unknown, model: string): Promise<ContextWindow | undefined> {
    if (!isMetisError(err) || err.code !== 'context_too_long') return undefined;
    const limit = err.details.contextTokens;
    if (limit === undefined || !Number.isSafeInteger(limit) || limit < LEAST_BELIEVABLE_WINDOW) return undefined;
    const before = await this.windowOf(model);
    if (limit >= before.tokens) return undefined;
    const ttl = this.deps.learnedTtlMs ?? LEARNED_TTL_MS;
    const value: Learned = { tokens: limit, at: this.now() };
    await this.deps.redis.multi().hset(this.learnedKey(), model, JSON.stringify(value)).pexpire(this.learnedKey(), ttl).exec();
    this.learnedAll.forget();
    this.deps.logger.warn({ model, contextTokens: limit, was: before }, 'learned a smaller context window from the gateway');
    return { tokens: limit, source: 'learned' };
  }

  private baseWindow(model: string, described: ReadonlyMap<string, ModelDetails> | 'unknown'): ContextWindow {
    const fromGateway = described === 'unknown' ? undefined : described.get(model)?.contextWindowTokens;
    if (fromGateway !== undefined) return { tokens: fromGateway, source: 'gateway' };
    const fromSetting = this.configured.get(model.toLowerCase());
    if (fromSetting !== undefined) return { tokens: fromSetting, source: 'setting' };
    return { tokens: this.deps.defaultTokens ?? DEFAULT_CONTEXT_TOKENS, source: 'default' };
  }

  /** Learned limits still in force (Redis drops them a day after the last one learned; the injected clock decides). */
  private async learned(models: readonly string[]): Promise<(number | undefined)[]> {
    const ttl = this.deps.learnedTtlMs ?? LEARNED_TTL_MS;
    const all = await this.learnedAll();
    return models.map((model) => {
      const text = all[model];
      if (!text) return undefined;
      try {
        const l = JSON.parse(text) as Learned;
        return typeof l.tokens === 'number' && typeof l.at === 'number' && this.now() - l.at < ttl ? l.tokens : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /** The gateway's descriptions, read at most once per freshness window per process; a failed read falls back, never fails. */
  private async descriptions(): Promise<ReadonlyMap<string, ModelDetails> | 'unknown'> {
    const now = this.now();
    if (this.described && now < this.described.nextAt) return this.described.value;
    this.describing ??= this.deps
      .describe()
      .then((value) => {
        this.described = { value, nextAt: this.now() + (this.deps.describeFreshMs ?? DESCRIBE_FRESH_MS) };
        return value;
      })
      .catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'could not read the models\' context windows from the gateway; using the settings');
        const value = this.described?.value ?? 'unknown';
        this.described = { value, nextAt: this.now() + DESCRIBE_RETRY_MS };
        return value;
      })
      .finally(() => {
        this.describing = undefined;
      });
    return this.describing;
  }
}
