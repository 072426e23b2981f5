/**
 * Usage and the audit trail. Usage is counted per user, channel and model,
 * by UTC day, in one Redis hash per day (kept 400 days). Each answer's 12
 * counts gather in the process for up to a second and are written together,
 * summed per field: on a busy day one write carries hundreds of answers,
 * rather than 13 commands each. This process's own reads write them first;
 * a crash loses at most that second's counts (never a limit: those are
 * counted at once, in limits.ts and gateway-budget.ts). The audit trail
 * keeps one entry per request — who, where, model, tokens, outcome, timings;
 * the question itself only with METIS_AUDIT_CONTENT=true — in a Redis stream
 * trimmed to the retention, and emits it as a log line.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { redisKeys } from '../redis-keys.ts';

export interface UsageRecord {
  user: string;
  channel: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** The answer was stopped part-way (counted as a request, and as a stop). */
  stopped?: boolean;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

export interface AuditEntry {
  requestId: string;
  user: string;
  channel: string;
  model?: string;
  outcome: string;
  code?: string;
  promptTokens?: number;
  completionTokens?: number;
  tokensEstimated?: boolean;
  queueWaitMs?: number;
  totalMs?: number;
  question?: string;
}

const KEEP_DAYS = 400;
/** How long usage counts gather in this process before one write carries them all. */
const FLUSH_MS = 1000;

export const utcDay = (t = Date.now()) => new Date(t).toISOString().slice(0, 10);

/** A rough token count for text the gateway reported no usage for (about 4 characters a token). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

export class UsageLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
    private readonly audit: { content: boolean; retentionDays: number },
  ) {}

  /** Counts not yet written: day key -> field -> amount to add. */
  private pending = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  /** The write in flight, if any: writes go one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();

  private dayKey(day: string) {
    return redisKeys(this.keyPrefix).usageDay(day);
  }

  /** Counts one answer (written within FLUSH_MS; a failed write is logged, never thrown). */
  async record(r: UsageRecord): Promise<void> {
    const key = this.dayKey(utcDay());
    const fields = this.pending.get(key) ?? new Map<string, number>();
    this.pending.set(key, fields);
    const add = (field: string, n: number) => n !== 0 && fields.set(field, (fields.get(field) ?? 0) + n);
    for (const who of [`u:${r.user}`, `c:${r.channel}`, `m:${r.model}`, 'all']) {
      add(`${who}:requests`, 1);
      add(`${who}:prompt`, r.promptTokens);
      add(`${who}:completion`, r.completionTokens);
      if (r.stopped) add(`${who}:stopped`, 1);
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes the counts gathered so far; settles when they (and any write before) are written or given up. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return this.writing;
    this.writing = this.writing
      .then(async () => {
        // A pipeline, not a MULTI: each increment is atomic on its own, and all of them travel in one round trip.
        const p = this.redis.pipeline();
        for (const [key, fields] of batch) {
          for (const [field, n] of fields) p.hincrby(key, field, n);
          p.expire(key, KEEP_DAYS * 86_400);
        }
        for (const [err] of (await p.exec()) ?? []) if (err) throw err;
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'could not record usage for answered questions'));
    return this.writing;
  }

  /** Totals for one subject (`u:U123`, `c:C123`, `m:model`, `all`) over the given days. */
  async totals(subject: string, days: string[]): Promise<UsageTotals> {
    await this.flush();
    const out: UsageTotals = { requests: 0, promptTokens: 0, completionTokens: 0 };
    const m = this.redis.multi();
    for (const d of days) m.hmget(this.dayKey(d), `${subject}:requests`, `${subject}:prompt`, `${subject}:completion`);
    for (const [, values] of ((await m.exec()) ?? []) as [unknown, (string | null)[]][]) {
      out.requests += Number(values[0] ?? 0);
      out.promptTokens += Number(values[1] ?? 0);
      out.completionTokens += Number(values[2] ?? 0);
    }
    return out;
  }

  /** The largest users, channels or models over the given days, by total tokens. */
  async top(kind: 'u' | 'c' | 'm', days: string[], count = 5): Promise<{ id: string; totals: UsageTotals }[]> {
    await this.flush();
    const sums = new Map<string, UsageTotals>();
    for (const d of days) {
      const all = await this.redis.hgetall(this.dayKey(d));
      for (const [field, value] of Object.entries(all)) {
        if (!field.startsWith(`${kind}:`)) continue;
        const at = field.lastIndexOf(':');
        const id = field.slice(2, at);
        const metric = field.slice(at + 1);
        const t = sums.get(id) ?? { requests: 0, promptTokens: 0, completionTokens: 0 };
        if (metric === 'requests') t.requests += Number(value);
        if (metric === 'prompt') t.promptTokens += Number(value);
        if (metric === 'completion') t.completionTokens += Number(value);
        sums.set(id, t);
      }
    }
    return [...sums.entries()]
      .map(([id, totals]) => ({ id, totals }))
      .sort((a, b) => b.totals.promptTokens + b.totals.completionTokens - (a.totals.promptTokens + a.totals.completionTokens) || b.totals.requests - a.totals.requests)
      .slice(0, count);
  }

  async auditRequest(entry: AuditEntry): Promise<void> {
    const { question, ...rest } = entry;
    const kept = this.audit.content && question !== undefined ? { ...rest, question } : rest;
    this.logger.info({ audit: kept }, 'audit');
    const minId = Date.now() - this.audit.retentionDays * 86_400_000;
    const fields = Object.entries(kept).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.xadd(redisKeys(this.keyPrefix).audit, 'MINID', '~', String(minId), '*', ...fields);
  }

  async recentAudit(count = 20): Promise<Record<string, string>[]> {
    const rows = await this.redis.xrevrange(redisKeys(this.keyPrefix).audit, '+', '-', 'COUNT', count);
    return rows.map(([id, fields]) => {
      const o: Record<string, string> = { id };
      for (let i = 0; i < fields.length; i += 2) o[fields[i] as string] = fields[i + 1] as string;
      return o;
    });
  }
}

export type Rating = 'up' | 'down';

/** Thumbs up and down per model. */
export interface FeedbackCount {
  model: string;
  up: number;
  down: number;
}

/** A person's rating of one answer is kept this long, so clicking again changes it instead of counting twice. */
const FEEDBACK_GIVEN_SECONDS = 30 * 86_400;

/**
 * Records a rating (Slack's feedback buttons) of an answer by `model`: counted
 * per model and day, once per person and answer (a changed mind moves the
 * count), and written to the audit trail with the request it rates.
 */
export async function recordFeedback(
  redis: Redis,
  keyPrefix: string,
  ledger: UsageLedger,
  f: { requestId: string; user: string; channel: string; model: string; rating: Rating },
): Promise<'recorded' | 'changed' | 'same'> {
  const keys = redisKeys(keyPrefix);
  const before = (await redis.set(keys.feedbackGiven(f.requestId, f.user), f.rating, 'EX', FEEDBACK_GIVEN_SECONDS, 'GET')) as Rating | null;
  if (before === f.rating) return 'same';
  const day = keys.feedbackDay(utcDay());
  await Promise.all([
    redis.hincrby(day, `m:${f.model}:${f.rating}`, 1),
    ...(before ? [redis.hincrby(day, `m:${f.model}:${before}`, -1)] : []),
    redis.expire(day, KEEP_DAYS * 86_400),
    ledger.auditRequest({ requestId: f.requestId, user: f.user, channel: f.channel, model: f.model, outcome: `feedback_${f.rating}` }),
  ]);
  return before ? 'changed' : 'recorded';
}

/** Ratings per model over the given days, most rated first. */
export async function feedbackCounts(redis: Redis, keyPrefix: string, days: string[]): Promise<FeedbackCount[]> {
  const sums = new Map<string, FeedbackCount>();
  const all = await Promise.all(days.map((d) => redis.hgetall(redisKeys(keyPrefix).feedbackDay(d))));
  for (const day of all) {
    for (const [field, value] of Object.entries(day)) {
      const at = field.lastIndexOf(':');
      const model = field.slice(2, at);
      const rating = field.slice(at + 1);
      const row = sums.get(model) ?? { model, up: 0, down: 0 };
      if (rating === 'up') row.up += Number(value);
      if (rating === 'down') row.down += Number(value);
      sums.set(model, row);
    }
  }
  return [...sums.values()].sort((a, b) => b.up + b.down - (a.up + a.down) || a.model.localeCompare(b.model));
}

/** The UTC days of the current month up to today. */
export function monthDays(now = Date.now()): string[] {
  const d = new Date(now);
  const days: string[] = [];
  for (let day = 1; day <= d.getUTCDate(); day++) days.push(utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), day)));
  return days;
}
