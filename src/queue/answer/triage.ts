/**
 * What a failure means for the question: hand over, drop, park, retry or
 * fail. `classify` holds the order of the rules (pure, tested as a table);
 * `triage` adds their side effects (pausing the fleet's requests, noting
 * maintenance, the waits' progress) and returns the outcome.
 */
import { GlobusError } from '../../auth/globus.ts';
import { AccessTokenRejected, isMetisError, userMessageFor } from '../../errors.ts';
import { AnswerAbandoned, ConversationGone } from '../../reply/reply.ts';
import type { AnswerDeps } from './deps.ts';
import type { Finish, Outcome, Retry } from './outcome.ts';
import { retryDelayMs } from './outcome.ts';
import { accessWait, modelWait, parks } from './parking.ts';
import type { AnswerRun } from './run.ts';
import { WORDS } from '../../words.ts';

/** A person's or channel's usage limit is reached; `message` says which and when it resets. */
export class LimitReached extends Error {}

/** An ioredis error from a connection that is down or restarting (not a bug, not the user's doing). */
export function isRedisTrouble(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  return (
    e?.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|EPIPE|LOADING|Stream isn't writeable/i.test(`${e?.message ?? ''} ${e?.code ?? ''}`)
  );
}

/** Failures only a person can fix (login, service account, gateway policy): worth waiting for. */
function isAccessProblem(err: unknown): boolean {
  return err instanceof AccessTokenRejected || (err instanceof GlobusError && err.needsPerson) || (isMetisError(err) && err.code === 'access_not_configured');
}

const codeOf = (err: unknown) => (isMetisError(err) ? err.code : undefined);

/** The rules, in the order they are tried. */
const RULES = ['handed-over', 'conversation-gone', 'limited', 'gateway-busy', 'token-limit', 'access', 'model', 'redis-retry', 'retry', 'fail'] as const;
export type Rule = (typeof RULES)[number];

export interface Facts {
  /** The job's lock was lost. */
  aborted: boolean;
  /** Answer text has been shown (nothing is retried or parked after that: it would be shown twice). */
  hasText: boolean;
  attemptsLeft: boolean;
  model?: string;
}

const applies: Record<Rule, (err: unknown, f: Facts) => boolean> = {
  'handed-over': (err, f) => f.aborted || err instanceof AnswerAbandoned,
  'conversation-gone': (err) => err instanceof ConversationGone,
  limited: (err) => err instanceof LimitReached,
  'gateway-busy': (err, f) => !f.hasText && codeOf(err) === 'rate_limited',
  'token-limit': (err, f) => !f.hasText && codeOf(err) === 'token_rate_limited' && !!f.model,
  access: (err, f) => !f.hasText && isAccessProblem(err),
  model: (err, f) => !f.hasText && !!f.model && (codeOf(err) === 'model_not_live' || codeOf(err) === 'maintenance'),
  'redis-retry': (err, f) => !f.hasText && isRedisTrouble(err) && f.attemptsLeft,
  retry: (err, f) => isMetisError(err) && err.retryable && !f.hasText && f.attemptsLeft,
  fail: () => true,
};

/** The first rule that applies to `err`, trying only those after `after` (a wait that did not park goes on down the list). */
export function classify(err: unknown, facts: Facts, after?: Rule): Rule {
  const from = after ? RULES.indexOf(after) + 1 : 0;
  return RULES.slice(from).find((rule) => applies[rule](err, facts)) ?? 'fail';
}

/** Turns what went wrong after the gate into an outcome. Its own side effects' failures are thrown as they are. */
export async function triage(run: AnswerRun, deps: AnswerDeps, caught: unknown): Promise<Outcome> {
  const { log, progress } = run;
  const model = run.model;
  const facts = (): Facts => ({ aborted: run.lockLost?.aborted ?? false, hasText: run.hasText, attemptsLeft: run.attemptsLeft(), model });
  let err = caught;
  let rule = classify(err, facts());
  if (rule === 'handed-over') {
    log.warn({ model }, 'lost the job lock mid-answer; another worker continues it');
    return { kind: 'handed-over', cause: err };
  }
  await run.saveProgress().catch(() => undefined);
  if (rule === 'conversation-gone' && err instanceof ConversationGone) {
    log.warn({ slackError: err.slackError }, 'conversation went away mid-answer; dropping the request');
    return { kind: 'finish', result: { outcome: 'conversation_gone', code: err.slackError } };
  }
  if (rule === 'limited') {
    await run.reply?.fail((err as LimitReached).message);
    log.info({ outcome: 'limited' }, 'a usage limit was reached');
    await run.audit({ outcome: 'limited' });
    return { kind: 'finish', result: { outcome: 'limited' } };
  }
  // The gateway's rate limits slow the whole fleet down; the question waits its turn and is not failed.
  if (rule === 'gateway-busy') {
    await deps.budget.pauseRequests(1000);
    return parks.gatewayBusy();
  }
  if (rule === 'token-limit' && model) {
    const backoffMs = deps.config.sharing.tokenLimitBackoffMs;
    await deps.budget.pauseTokens(model, backoffMs);
    return parks.tokenLimit(model, backoffMs);
  }
  if (rule === 'access') {
    const wait = accessWait(progress, Date.now(), deps.config.admin);
    Object.assign(progress, wait.progress);
    if (wait.kind === 'park') {
      log.info(wait.log, 'waiting for Metis access to be fixed');
      return wait.park;
    }
    rule = classify(err, facts(), 'access');
  }
  // The gateway says the model is asleep, or Metis is in maintenance: wait for it like a cold start.
  if (rule === 'model' && model && isMetisError(err)) {
    progress.notLiveAt = Date.now();
    if (err.code === 'maintenance') await deps.catalog.noteMaintenance(err.details.notice);
    const known = await deps.catalog.snapshot().catch(() => undefined);
    const notice = err.code === 'maintenance' ? (err.details.notice ?? WORDS.maintenance_default_notice()) : known?.maintenanceNotice;
    if (known) {
      const wait = modelWait(model, { ...known, ...(notice ? { maintenanceNotice: notice } : {}) }, progress, Date.now(), deps.config.models);
      Object.assign(progress, wait.progress);
      if (wait.kind === 'park') {
        log.info(wait.log, 'waiting for the model to be Live');
        return wait.park;
      }
      if (wait.kind === 'give-up') err = wait.error; // waited long enough: say so
    }
    rule = classify(err, facts(), 'model');
  }
  // Redis restarting: the job (and its placeholder) is safe; let the queue try it again shortly.
  if (rule === 'redis-retry') {
    log.warn({ err }, 'Redis trouble mid-request; the request will be retried');
    return { kind: 'retry', cause: err };
  }
  if (rule === 'retry' && isMetisError(err)) {
    const delayMs = retryDelayMs(err, run.job.attemptsMade + 1, deps.config.gateway.retryBaseMs);
    log.warn({ err, code: err.code, delayMs, model }, 'transient failure; the request will be retried');
    return { kind: 'retry', cause: err, delayMs, status: WORDS.status_gateway_busy({ seconds: Math.ceil(delayMs / 1000) }) };
  }
  const code = isMetisError(err) ? err.code : 'internal';
  log.error({ code, err: isMetisError(err) ? err.message : err, model }, 'request failed; told the user');
  return { kind: 'fail', error: err, code, model };
}

/**
 * The allow lists could not be checked (Slack rate limited or failed, Redis
 * down): tried again later while attempts remain, then the asker is told in
 * the thread rather than left without a word (the job then ends completed).
 */
export async function triageGate(run: AnswerRun, deps: AnswerDeps, err: unknown): Promise<Retry | Finish> {
  const { log } = run;
  if (run.attemptsLeft() && isRedisTrouble(err)) {
    log.warn({ err }, 'Redis trouble while checking the allow lists; the request will be retried');
    return { kind: 'retry', cause: err };
  }
  if (run.attemptsLeft() && isMetisError(err) && err.retryable) {
    const delayMs = Math.max(err.details.retryAfterMs ?? 0, retryDelayMs(err, run.job.attemptsMade + 1, deps.config.gateway.retryBaseMs));
    log.warn({ err, code: err.code, delayMs }, 'could not check the allow lists; the request will be retried');
    return { kind: 'retry', cause: err, delayMs };
  }
  const code = isMetisError(err) ? err.code : 'internal';
  log.error({ code, err: isMetisError(err) ? err.message : err }, 'could not check the allow lists; told the user');
  await run.notice(userMessageFor(err));
  return { kind: 'finish', result: { outcome: 'error', code } };
}
