/**
 * Whether Metis access works, shared by the whole fleet. When it needs a
 * person (a revoked client, an expired login, a gateway policy refusal), the
 * state is set once in Redis; exactly one process sees the SET succeed and
 * alerts the admins, once per incident. When access works again, exactly one
 * process sees the DEL succeed and sends the recovery notice.
 */
import type { Redis } from 'ioredis';
import { cachedRead } from '../cached-read.ts';
import type { Logger } from '../logger.ts';
import { redisKeys } from '../redis-keys.ts';

export interface AccessProblem {
  /** Stable code: grant_refused, login_expired, gateway_refused, no_login, token_expired. */
  code: string;
  /** The exact cause, for admins (never a token or secret). */
  detail: string;
  /** What an admin should do. */
  fix: string;
  since: number;
}

export interface AccessNotifier {
  needsPerson(problem: AccessProblem): Promise<void>;
  recovered(problem: AccessProblem): Promise<void>;
}

export class AccessHealth {
  private readonly stateKey: string;
  private readonly probeKey: string;
  /** This process has seen a problem recently: check for recovery on success. */
  private sawProblem = false;
  /** Every answer asks; the state is read at most once a second per process (its own changes at once). */
  private readonly read = cachedRead(1000, () => AccessHealth.read(this.redis, this.keyPrefix));

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly notifier: AccessNotifier,
    private readonly logger: Logger,
  ) {
    this.stateKey = redisKeys(keyPrefix).authNeedsPerson;
    this.probeKey = redisKeys(keyPrefix).authProbe;
  }

  /** The open incident, if any, read without taking part in alerting (for status views). */
  static async read(redis: Redis, keyPrefix: string): Promise<AccessProblem | undefined> {
    const raw = await redis.get(redisKeys(keyPrefix).authNeedsPerson);
    return raw ? (JSON.parse(raw) as AccessProblem) : undefined;
  }

  async problem(): Promise<AccessProblem | undefined> {
    const problem = await this.read();
    if (problem) this.sawProblem = true;
    return problem;
  }

  /** Records that a person must act; alerts only if this opened the incident. */
  async needsPerson(p: Omit<AccessProblem, 'since'>): Promise<void> {
    this.sawProblem = true;
    const problem: AccessProblem = { ...p, since: Date.now() };
    const opened = await this.redis.set(this.stateKey, JSON.stringify(problem), 'NX');
    this.read.forget();
    if (opened !== 'OK') return;
    this.logger.error({ code: problem.code, detail: problem.detail, fix: problem.fix }, 'Metis access needs a person');
    await this.notifier.needsPerson(problem).catch((err: unknown) => this.logger.error({ err }, 'could not alert the admins'));
  }

  /** Access worked: close the incident, if there is one, and say so once. */
  async worked(): Promise<void> {
    if (!this.sawProblem) return;
    this.sawProblem = false;
    const raw = await this.redis.get(this.stateKey);
    if (!raw) return;
    // Only the process whose DEL removed the key sends the notice.
    const removed = await this.redis.del(this.stateKey);
    this.read.forget();
    if (removed !== 1) return;
    const problem = JSON.parse(raw) as AccessProblem;
    this.logger.info({ code: problem.code, downForMs: Date.now() - problem.since }, 'Metis access works again');
    await this.notifier.recovered(problem).catch((err: unknown) => this.logger.error({ err }, 'could not tell the admins'));
  }

  /**
   * While access is broken, one waiting request per interval may try the real
   * thing (so a fix is noticed without a restart); the others keep waiting.
   */
  async mayProbe(intervalMs: number): Promise<boolean> {
    return (await this.redis.set(this.probeKey, String(process.pid), 'PX', intervalMs, 'NX')) === 'OK';
  }
}
