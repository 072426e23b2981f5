/**
 * The processor for one question: from the queued Slack message to the
 * finished answer (or one clear message) in its thread.
 *
 * A question that cannot be answered yet — its model is not Live, Metis is
 * under maintenance, or access needs a person — is parked as a delayed job
 * (it holds no worker slot) and wakes to check again; the note in its thread
 * says why and is edited as things move, then becomes the answer.
 */
import type { WebClient } from '@slack/web-api';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { AccessHealth } from '../../auth/access-health.ts';
import { type AccessTokenSource, withAccessToken } from '../../auth/access-token.ts';
import { GlobusError } from '../../auth/globus.ts';
import type { Config } from '../../config.ts';
import { buildMessages, METADATA, userIdsIn } from '../../conversation/build-messages.ts';
import { parseRequest } from '../../conversation/parse-request.ts';
import { visibleAnswer } from '../../conversation/reasoning.ts';
import { AccessTokenRejected, isMetisError, MetisError, userMessageFor } from '../../errors.ts';
import type { ChatMessage, GatewayClient } from '../../gateway/client.ts';
import type { Logger } from '../../logger.ts';
import type { ModelCatalog, SnapshotView } from '../../models/catalog.ts';
import { chooseModel } from '../../models/choose-model.ts';
import type { ModelPreferences } from '../../models/preferences.ts';
import { AnswerAbandoned, AnswerMessage, ConversationGone, markdownMessage } from '../../reply/answer-message.ts';
import { fetchThread, findRequestMessages } from '../../reply/thread-history.ts';
import type { EditPacer } from '../../reply/edit-pacer.ts';
import type { UserNames } from '../../reply/user-names.ts';
import { type AccessPolicy, type PolicyDecision, refusalText } from '../../team/access-policy.ts';
import type { FairShare } from '../../team/fair-share.ts';
import type { GatewayBudget } from '../../team/gateway-budget.ts';
import { limitMessage, type UsageLimits } from '../../team/limits.ts';
import type { QueueControl } from '../../team/queue-control.ts';
import { type AuditEntry, estimateTokens, type UsageLedger } from '../../team/usage.ts';
import { type AnswerJobData, type AnswerJobResult, type AnswerProgress, type AnswerRequest, progressOf, requestOf } from '../answer-job.ts';
import type { Cancellations } from '../cancellation.ts';
import { countStreaming } from '../../metrics/instrument.ts';
import { firstSignOfLifeSeconds, firstTextSeconds, secondsSince } from '../../metrics/registry.ts';

export interface BotIdentity {
  userId: string;
  botId?: string;
}

export interface AnswerDeps {
  slack: WebClient;
  gateway: GatewayClient;
  catalog: ModelCatalog;
  preferences: ModelPreferences;
  cancellations: Cancellations;
  tokens: AccessTokenSource;
  health: AccessHealth;
  userNames: UserNames;
  policy: AccessPolicy;
  budget: GatewayBudget;
  fairShare: FairShare;
  limits: UsageLimits;
  usage: UsageLedger;
  control: QueueControl;
  editPacer: EditPacer;
  botIdentity: () => Promise<BotIdentity>;
  config: Pick<Config, 'gateway' | 'conversation' | 'slackOutput' | 'admin' | 'models' | 'sharing'>;
  logger: Logger;
}

interface StreamOutcome {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** A failure worth another attempt later: the queue retries the job after a backoff. */
export class RetryLater extends Error {
  constructor(
    readonly reason: MetisError,
    readonly delayMs: number,
  ) {
    super(reason.message);
    this.name = 'RetryLater';
  }
}

/** How long to wait before the next attempt after `err`. */
export function retryDelayMs(err: MetisError, attemptsMade: number, baseMs: number): number {
  if (err.code === 'token_rate_limited') return 60_000; // the gateway's TPM window is a fixed minute
  const jitter = Math.floor(Math.random() * (baseMs / 2));
  // (The request throttle's 429 never gets here: the job is parked for about a second instead.)
  return Math.min(30_000, baseMs * 2 ** Math.max(0, attemptsMade - 1)) + jitter;
}

const VISIBLE_EVERY_MS = 100;

/** An ioredis error from a connection that is down or restarting (not a bug, not the user's doing). */
function isRedisTrouble(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  return (
    e?.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|EPIPE|LOADING|Stream isn't writeable/i.test(`${e?.message ?? ''} ${e?.code ?? ''}`)
  );
}

/** A person's or channel's usage limit is reached; `message` says which and when it resets. */
class LimitReached extends Error {}

/** Failures only a person can fix (login, service account, gateway policy): worth waiting for. */
function isAccessProblem(err: unknown): boolean {
  return (
    err instanceof AccessTokenRejected ||
    (err instanceof GlobusError && err.needsPerson) ||
    (isMetisError(err) && err.code === 'access_not_configured')
  );
}

const WAITING_FOR_ACCESS =
  ":lock: _Metis access needs an administrator, and they have been told. I'll answer here as soon as it works again._";

function waitingForModelNote(model: string, snapshot: SnapshotView): string {
  if (snapshot.maintenance || snapshot.maintenanceNotice) {
    const notice = snapshot.maintenanceNotice ? `: ${snapshot.maintenanceNotice}` : '';
    return `:construction: _Metis is under maintenance${notice}. I'll answer here when it is back._`;
  }
  const status = snapshot.models.find((m) => m.name === model)?.status ?? 'not Live';
  const why = status === 'Offline' ? ' (it is loaded when asked for)' : '';
  return `:hourglass_flowing_sand: _\`${model}\` is ${status} on Metis${why}; I'll answer here when it is Live._`;
}

export function createAnswerProcessor(deps: AnswerDeps) {
  // Three parameters: BullMQ passes an abort signal only to processors that declare it.
  return async function answerQuestion(job: Job<AnswerJobData>, lockToken: string | undefined, signal: AbortSignal | undefined): Promise<AnswerJobResult> {
    const request = requestOf(job.data);
    const data: AnswerRequest & AnswerProgress = { ...request, ...progressOf(job.data) };
    const jobId = String(job.id);
    const log = deps.logger.child({ requestId: jobId, channel: data.channel, user: data.user, attempt: job.attemptsMade + 1 });
    /** This request's line in the audit trail. */
    const audit = (entry: Omit<AuditEntry, 'requestId' | 'user' | 'channel'>) =>
      deps.usage.auditRequest({ requestId: jobId, user: data.user, channel: data.channel, ...entry });
    const identity = await deps.botIdentity();

    // Everything this request needs to know, asked for now so that it travels in the same Redis round
    // trip as the allow-list check (auto-pipelined); harmless if the request turns out to be refused.
    const waiting = data.coldStartSince !== undefined;
    const state = Promise.all([
      deps.cancellations.cancelledBy(jobId),
      deps.control.paused(),
      deps.health.problem(),
      data.model ? Promise.resolve(undefined) : deps.preferences.forThread(data.channel, data.threadTs),
      // Only what Redis holds: a refused request must not make the bot ask the gateway anything.
      deps.catalog.lastKnown(),
    ]);
    state.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    let decision: PolicyDecision;
    try {
      decision = data.answerTs?.length ? { allowed: true as const } : await deps.policy.check({ user: data.user, channel: data.channel, teamId: data.teamId });
    } catch (err) {
      return await accessCheckFailed(deps, job, err, log);
    }
    if (!decision.allowed) {
      await deps.slack.chat.postEphemeral({ channel: data.channel, user: data.user, thread_ts: data.threadTs, text: refusalText(decision.reason) });
      log.info({ outcome: 'refused', reason: decision.reason }, 'refused by the allow lists');
      await audit({ outcome: 'refused', code: decision.reason });
      return { outcome: 'refused', code: decision.reason };
    }

    // Parsed only once the asker is allowed: people the allow lists refuse get the refusal, never public help.
    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(data.text, identity.userId);
    } catch (err) {
      const message = userMessageFor(err);
      if (!data.answerTs?.length) {
        await deps.slack.chat.postMessage({
          channel: data.channel,
          thread_ts: data.threadTs,
          ...markdownMessage(message),
          metadata: { event_type: METADATA.notice, event_payload: { request_id: jobId } },
        } as Parameters<WebClient['chat']['postMessage']>[0]);
      }
      log.info({ outcome: 'usage', code: isMetisError(err) ? err.code : 'internal' }, 'replied with usage help');
      return { outcome: 'usage', code: isMetisError(err) ? err.code : undefined };
    }

    // Picked up again after a worker died: it may have posted a placeholder it had no time to record.
    if (!data.answerTs?.length && (job.attemptsStarted ?? 0) > 1) {
      data.answerTs = await findRequestMessages(deps.slack, data.channel, data.threadTs, jobId, data.ts).catch(() => undefined);
    }

    const answer = new AnswerMessage(deps.slack, {
      channel: data.channel,
      threadTs: data.threadTs,
      requestId: jobId,
      pacing: deps.editPacer.forAnswer(),
      maxChars: deps.config.slackOutput.messageMaxChars,
      logger: log,
      existingTs: data.answerTs,
      existingShown: data.shown,
      // Remember every message as it is posted, so a worker that takes over reuses them.
      onMessagesChanged: () => void save(),
    });
    let saving: Promise<void> = Promise.resolve();
    const save = () => {
      data.answerTs = answer.messageTs;
      // Only a waiting note is worth remembering: streaming edits are not saved, so what they show is not known.
      data.shown = data.note !== undefined ? answer.shown : undefined;
      saving = saving.then(() => job.updateData({ ...request, progress: progressOf(data) })).catch((err: unknown) => log.warn({ err: String(err) }, 'could not save the request state'));
      return saving;
    };
    // Lost the job's lock (Redis trouble, a long pause): another worker now owns the answer.
    signal?.addEventListener('abort', () => answer.abandon(), { once: true });

    /**
     * Parks the job until `delayMs` from now: it holds no worker slot
     * meanwhile. `note` (kept when undefined) is what its thread shows.
     */
    const park = async (note: string | undefined, delayMs: number, cancellable: boolean): Promise<never> => {
      if (!lockToken) throw new MetisError('internal', 'cannot park a job without its lock token');
      if (note !== undefined) {
        data.note = note;
        data.noteCancellable = cancellable;
      }
      // Only a note that changed is edited (within the edit budget): a parked question wakes often.
      await answer.showWaiting(data.note ?? '_Waiting…_', data.noteCancellable ? jobId : undefined);
      await save();
      await job.moveToDelayed(Date.now() + delayMs, lockToken);
      throw new DelayedError();
    };

    /** Waits for access to be fixed, unless it has waited long enough (then the caller fails clearly). */
    const waitForAccess = async (): Promise<void> => {
      data.accessWaitSince ??= Date.now();
      if (Date.now() - data.accessWaitSince >= deps.config.admin.accessWaitMs) return;
      log.info({ waitedMs: Date.now() - data.accessWaitSince }, 'waiting for Metis access to be fixed');
      await park(WAITING_FOR_ACCESS, deps.config.admin.accessProbeMs, false);
    };

    /** Proceeds when the model is Live; otherwise parks until the next status poll, or gives up. */
    const waitForModel = async (model: string, snapshot: SnapshotView): Promise<void> => {
      const status = snapshot.models.find((m) => m.name === model)?.status;
      const notLive = status !== undefined && status !== 'Live';
      // After the gateway said "not live", only a status fetched since then may say otherwise.
      const unconfirmed = data.notLiveAt !== undefined && snapshot.fetchedAt <= data.notLiveAt;
      if (!snapshot.maintenance && !notLive && !unconfirmed) return;
      // In maintenance, only the gateway's 503 carries the notice: ask once to learn it, unless it is known.
      if (snapshot.maintenance && !snapshot.maintenanceNotice && data.notLiveAt === undefined) return;
      data.coldStartSince ??= Date.now();
      const waitedMs = Date.now() - data.coldStartSince;
      if (waitedMs >= deps.config.models.coldStartTimeoutMs) {
        if (snapshot.maintenance || snapshot.maintenanceNotice)
          throw new MetisError('maintenance', `maintenance outlasted the wait (${waitedMs} ms)`, { notice: snapshot.maintenanceNotice });
        throw new MetisError('cold_start_timeout', `${model} not Live after ${waitedMs} ms`, {
          model,
          models: snapshot.models.filter((m) => m.status === 'Live').map((m) => m.name),
          waitedMinutes: Math.round(deps.config.models.coldStartTimeoutMs / 60_000),
        });
      }
      log.info({ model, status, maintenance: snapshot.maintenance, waitedMs }, 'waiting for the model to be Live');
      await park(waitingForModelNote(model, snapshot), deps.config.models.coldStartPollMs, true);
    };

    try {
      // A waiting question keeps showing why it waits; one picked up after a failure says it is trying again.
      const firstShowing = !data.answerTs?.length;
      const resumed = firstShowing ? '_Working on it…_' : '_Trying again…_';
      await answer.begin(data.note ?? resumed, data.note && data.noteCancellable ? jobId : undefined, data.note !== undefined);
      if (firstShowing) firstSignOfLifeSeconds.observe(secondsSince(data.receivedAt));
      await saving; // the placeholder's ts is stored before anything else can fail
    } catch (err) {
      if (err instanceof ConversationGone) {
        log.warn({ slackError: err.slackError }, 'cannot post in this conversation; dropping the request');
        return { outcome: 'conversation_gone', code: err.slackError };
      }
      throw err; // Slack trouble: let the queue try again
    }

    let shownText = false;
    let model = data.model;
    /** METIS_DEFAULT_MODEL's value when it names no model Metis offers (the answer then says so). */
    let ignoredDefault: string | undefined;
    let running = false;
    let stopStreaming: (() => void) | undefined;
    try {
      const [cancelledBy, paused, problem, prefs, lastKnown] = await state;
      const knownSnapshot = await deps.catalog
        .snapshot(waiting ? deps.config.models.coldStartPollMs : undefined, lastKnown)
        .catch((err: unknown) => err as Error);
      if (cancelledBy) {
        await answer.fail(`:no_entry_sign: _Cancelled by <@${cancelledBy}>._`, [cancelledBy]);
        log.info({ outcome: 'cancelled', model }, 'request cancelled while waiting');
        return { outcome: 'cancelled', model };
      }
      if (paused) {
        await park(":double_vertical_bar: _Questions are paused by an administrator. Yours is queued and will be answered when they resume._", 2000, false);
      }
      if (!data.admitted) {
        const admitted = await deps.limits.admit(data.user, data.channel);
        if (!admitted.ok) throw new LimitReached(limitMessage(admitted));
        data.admitted = true;
      }
      // While access is known to be broken, only one request per interval tries; the rest wait.
      if (problem && !(await deps.health.mayProbe(deps.config.admin.accessProbeMs))) await waitForAccess();
      if (knownSnapshot instanceof Error) throw knownSnapshot;
      const snapshot = knownSnapshot;
      if (!model) {
        const choice = chooseModel(snapshot, { flag: parsed.model, thread: prefs?.thread, channel: prefs?.channel, configured: deps.config.gateway.defaultModel });
        model = choice.model;
        // A waiting question keeps a model someone chose; "the first Live one" is chosen again when it wakes.
        if (choice.source !== 'first-live' && choice.source !== 'first-listed') data.model = model;
        // A thread keeps the model last named with -m in it; defaults and fallbacks are looked up afresh.
        if (choice.source === 'flag' || choice.source === 'thread') await deps.preferences.rememberForThread(data.channel, data.threadTs, model);
        ignoredDefault = choice.ignoredDefault;
      }
      await waitForModel(model, snapshot);
      const tokenWaitMs = await deps.budget.tokensWaitMs(model);
      if (tokenWaitMs > 0) {
        await park(
          `:hourglass: _The team's per-minute token budget for \`${model}\` is used up; your question is next in line (about ${Math.ceil(tokenWaitMs / 1000)} s)._`,
          tokenWaitMs,
          true,
        );
      }
      // A running slot is needed only to ask the gateway: waiting checks above cost the person nothing.
      running = await deps.fairShare.start(data.user, jobId);
      if (!running) await park(data.note === undefined ? '_Your earlier questions are being answered first; this one is next._' : undefined, 500, false);
      if (data.note !== undefined) {
        data.note = undefined;
        data.noteCancellable = undefined;
        void save(); // a worker taking over from here must not think the note is still all the message shows
      }
      stopStreaming = countStreaming(deps.editPacer.track());
      answer.setStatus(`_Asking \`${model}\`…_`);

      const history = data.inThread ? await fetchThread(deps.slack, data.channel, data.threadTs, data.ts, deps.config.conversation.contextMaxChars) : [];
      const names = await deps.userNames.lookup(userIdsIn({ history, prompt: parsed.prompt, triggerUser: data.user }));
      const built = buildMessages({
        history,
        prompt: parsed.prompt,
        triggerTs: data.ts,
        triggerUser: data.user,
        botUserId: identity.userId,
        botId: identity.botId,
        userNames: names,
        maxContextChars: deps.config.conversation.contextMaxChars,
        maxPromptChars: deps.config.conversation.maxPromptChars,
      });

      const chosen = model;
      // What is visible is worked out at most every VISIBLE_EVERY_MS: edits go out once a second anyway.
      let visibleAt = 0;
      const outcome = await streamAnswer(deps, snapshot.framework, chosen, built.messages, signal, (raw) => {
        const now = Date.now();
        if (shownText && now - visibleAt < VISIBLE_EVERY_MS) return;
        visibleAt = now;
        const v = visibleAnswer(raw, { final: false });
        if (v.text.length > 0 && !shownText) firstTextSeconds.observe(secondsSince(data.receivedAt));
        if (v.text.length > 0) shownText = true;
        if (v.thinking && v.text.length === 0) answer.setStatus(`_\`${chosen}\` is thinking…_`);
        answer.update(v.text);
      });
      const finalText = visibleAnswer(outcome.text, { final: true }).text.trim() || '_(The model returned an empty answer.)_';
      await answer.finish(finalText);
      const estimated = outcome.promptTokens === undefined || outcome.completionTokens === undefined;
      const promptTokens = outcome.promptTokens ?? estimateTokens(built.messages.map((m) => m.content).join('\n'));
      const completionTokens = outcome.completionTokens ?? estimateTokens(outcome.text);
      // All the bookkeeping at once (auto-pipelined into one round trip). The answer is already shown:
      // if Redis is briefly unreachable, the counts are lost but the request is not failed.
      await Promise.all([
        deps.usage.record({ user: data.user, channel: data.channel, model: chosen, promptTokens, completionTokens }),
        deps.limits.recordTokens(data.user, promptTokens + completionTokens),
        deps.budget.recordTokens(chosen, promptTokens + completionTokens),
        audit({
          model: chosen,
          outcome: 'answered',
          promptTokens,
          completionTokens,
          tokensEstimated: estimated,
          queueWaitMs: job.processedOn ? job.processedOn - data.receivedAt : undefined,
          totalMs: Date.now() - data.receivedAt,
          question: parsed.prompt,
        }),
      ]).catch((err: unknown) => log.warn({ err: String(err) }, 'could not record usage for an answered question'));
      if (ignoredDefault) {
        await answer.note(
          userMessageFor(new MetisError('default_model_unknown', 'METIS_DEFAULT_MODEL is not offered', { setting: 'METIS_DEFAULT_MODEL', model: ignoredDefault, models: [chosen] })),
        );
      }
      if (built.promptTruncatedFrom !== undefined) {
        await answer.note(
          `:scissors: Your message was ${built.promptTruncatedFrom.toLocaleString('en-US')} characters; I used the first ${deps.config.conversation.maxPromptChars.toLocaleString('en-US')}.`,
        );
      }
      log.info(
        {
          outcome: 'answered',
          model,
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
          answerChars: finalText.length,
          contextTurns: built.messages.length - 2,
          droppedTurns: built.droppedTurns,
          coldStartMs: data.coldStartSince ? Date.now() - data.coldStartSince : undefined,
          queueWaitMs: job.processedOn ? job.processedOn - data.receivedAt : undefined,
          totalMs: Date.now() - data.receivedAt,
        },
        'answered',
      );
      return { outcome: 'answered', model, promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens };
    } catch (caught) {
      if (caught instanceof DelayedError) throw caught;
      if (signal?.aborted || caught instanceof AnswerAbandoned) {
        log.warn({ model }, 'lost the job lock mid-answer; another worker continues it');
        throw caught;
      }
      let err = caught;
      await save().catch(() => undefined);
      if (err instanceof ConversationGone) {
        log.warn({ slackError: err.slackError }, 'conversation went away mid-answer; dropping the request');
        return { outcome: 'conversation_gone', code: err.slackError };
      }
      if (err instanceof LimitReached) {
        await answer.fail(err.message);
        log.info({ outcome: 'limited' }, 'a usage limit was reached');
        await audit({ outcome: 'limited' });
        return { outcome: 'limited' };
      }
      // The gateway's rate limits slow the whole fleet down; the question waits its turn and is not failed.
      if (!shownText && isMetisError(err) && err.code === 'rate_limited') {
        await deps.budget.pauseRequests(1000);
        await park('_Metis is busy; your question is next in line…_', 1000 + Math.floor(Math.random() * 500), false);
      }
      if (!shownText && isMetisError(err) && err.code === 'token_rate_limited' && model) {
        const backoffMs = deps.config.sharing.tokenLimitBackoffMs;
        await deps.budget.pauseTokens(model, backoffMs);
        await park(
          `:hourglass: _The per-minute token limit for \`${model}\` is used up; your question is next in line (about ${Math.ceil(backoffMs / 1000)} s)._`,
          backoffMs,
          true,
        );
      }
      if (!shownText && isAccessProblem(err)) await waitForAccess();
      // The gateway says the model is asleep, or Metis is in maintenance: wait for it like a cold start.
      if (!shownText && model && isMetisError(err) && (err.code === 'model_not_live' || err.code === 'maintenance')) {
        data.notLiveAt = Date.now();
        if (err.code === 'maintenance') await deps.catalog.noteMaintenance(err.details.notice);
        const known = await deps.catalog.snapshot().catch(() => undefined);
        const notice = err.code === 'maintenance' ? (err.details.notice ?? 'Metis is under maintenance.') : known?.maintenanceNotice;
        try {
          if (known) await waitForModel(model, { ...known, ...(notice ? { maintenanceNotice: notice } : {}) });
        } catch (waitErr) {
          if (waitErr instanceof DelayedError) throw waitErr;
          err = waitErr; // waited long enough: say so
        }
      }
      const failure = err;
      const attempts = job.opts.attempts ?? 1;
      // Redis restarting: the job (and its placeholder) is safe; let the queue try it again shortly.
      if (!shownText && isRedisTrouble(failure) && job.attemptsMade + 1 < attempts) {
        log.warn({ err: String(failure) }, 'Redis trouble mid-request; the request will be retried');
        throw failure;
      }
      if (isMetisError(failure) && failure.retryable && !shownText && job.attemptsMade + 1 < attempts) {
        const delayMs = retryDelayMs(failure, job.attemptsMade + 1, deps.config.gateway.retryBaseMs);
        log.warn({ code: failure.code, err: failure.message, delayMs, model }, 'transient failure; the request will be retried');
        answer.setStatus(`_Metis is busy right now; trying again in ${Math.ceil(delayMs / 1000)} s…_`);
        await answer.flush().catch(() => undefined);
        throw new RetryLater(failure, delayMs);
      }
      const code = isMetisError(failure) ? failure.code : 'internal';
      log.error({ code, err: isMetisError(failure) ? failure.message : failure, model }, 'request failed; told the user');
      await answer.fail(userMessageFor(failure));
      await audit({ model, outcome: 'error', code, totalMs: Date.now() - data.receivedAt }).catch(() => undefined);
      throw new UnrecoverableError(`${code}: ${isMetisError(failure) ? failure.message : String(failure)}`);
    } finally {
      stopStreaming?.();
      if (running) await deps.fairShare.stop(data.user, jobId).catch(() => undefined);
    }
  };
}

/**
 * The allow lists could not be checked (Slack rate limited or failed, Redis
 * down): tried again later while attempts remain, then the asker is told in
 * the thread rather than left without a word.
 */
async function accessCheckFailed(deps: AnswerDeps, job: Job<AnswerJobData>, err: unknown, log: Logger): Promise<AnswerJobResult> {
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (!lastAttempt && isRedisTrouble(err)) {
    log.warn({ err: String(err) }, 'Redis trouble while checking the allow lists; the request will be retried');
    throw err;
  }
  if (!lastAttempt && isMetisError(err) && err.retryable) {
    const delayMs = Math.max(err.details.retryAfterMs ?? 0, retryDelayMs(err, job.attemptsMade + 1, deps.config.gateway.retryBaseMs));
    log.warn({ code: err.code, err: err.message, delayMs }, 'could not check the allow lists; the request will be retried');
    throw new RetryLater(err, delayMs);
  }
  const code = isMetisError(err) ? err.code : 'internal';
  log.error({ code, err: isMetisError(err) ? err.message : err }, 'could not check the allow lists; told the user');
  await deps.slack.chat.postMessage({
    channel: job.data.channel,
    thread_ts: job.data.threadTs,
    ...markdownMessage(userMessageFor(err)),
    metadata: { event_type: METADATA.notice, event_payload: { request_id: String(job.id) } },
  } as Parameters<WebClient['chat']['postMessage']>[0]);
  return { outcome: 'error', code };
}

/**
 * Streams the answer, renewing an expired token once (a 401 always comes
 * before any text, so nothing shown is repeated).
 */
async function streamAnswer(
  deps: AnswerDeps,
  framework: string,
  model: string,
  messages: ChatMessage[],
  lockLost: AbortSignal | undefined,
  onText: (raw: string) => void,
): Promise<StreamOutcome> {
  return withAccessToken(
    deps.tokens,
    async (token) => {
      const out: StreamOutcome = { text: '' };
      const deadline = AbortSignal.timeout(deps.config.gateway.requestTimeoutMs);
      try {
        for await (const ev of deps.gateway.streamChat({
          token,
          framework,
          model,
          messages,
          idleTimeoutMs: deps.config.gateway.streamIdleTimeoutMs,
          signal: lockLost ? AbortSignal.any([deadline, lockLost]) : deadline,
        })) {
          if (ev.type === 'text') {
            out.text += ev.text;
            onText(out.text);
          } else {
            out.promptTokens = ev.promptTokens;
            out.completionTokens = ev.completionTokens;
          }
        }
        return out;
      } catch (err) {
        if (deadline.aborted && !isMetisError(err))
          throw new MetisError('gateway_timeout', 'answer took longer than METIS_REQUEST_TIMEOUT_SECONDS', { model }, false, { cause: err });
        throw err;
      }
    },
    deps.health,
  );
}
