/**
 * The processor for one question: from the queued Slack message to the
 * finished answer (or one clear message) in its thread.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { AccessHealth } from '../auth/access-health.ts';
import { type AccessTokenSource, withAccessToken } from '../auth/access-token.ts';
import { GlobusError } from '../auth/globus.ts';
import type { Config } from '../config.ts';
import { buildMessages, METADATA, userIdsIn } from '../conversation/build-messages.ts';
import { parseRequest } from '../conversation/parse-request.ts';
import { visibleAnswer } from '../conversation/reasoning.ts';
import { AccessTokenRejected, isMetisError, MetisError, userMessageFor } from '../errors.ts';
import type { ChatMessage, GatewayClient } from '../gateway/client.ts';
import { chooseModel, type ModelCatalog } from '../gateway/model-catalog.ts';
import type { Logger } from '../logger.ts';
import { AnswerMessage, ConversationGone } from '../slack/answer-message.ts';
import { fetchThread } from '../slack/thread-history.ts';
import type { UserNames } from '../slack/user-names.ts';
import type { AnswerJobData, AnswerJobResult } from './answer-job.ts';

export interface BotIdentity {
  userId: string;
  botId?: string;
}

export interface AnswerDeps {
  slack: WebClient;
  gateway: GatewayClient;
  catalog: ModelCatalog;
  tokens: AccessTokenSource;
  health: AccessHealth;
  userNames: UserNames;
  botIdentity: () => Promise<BotIdentity>;
  config: Pick<Config, 'gateway' | 'conversation' | 'slackOutput' | 'admin'>;
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
  // The gateway's request throttle is a 1 s sliding window: a short wait is enough.
  if (err.code === 'rate_limited') return Math.ceil(baseMs / 2) + jitter;
  return Math.min(30_000, baseMs * 2 ** Math.max(0, attemptsMade - 1)) + jitter;
}

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

export function createAnswerProcessor(deps: AnswerDeps) {
  return async function answerQuestion(job: Job<AnswerJobData>, lockToken?: string): Promise<AnswerJobResult> {
    const data = { ...job.data };
    const log = deps.logger.child({ requestId: job.id, channel: data.channel, user: data.user, attempt: job.attemptsMade + 1 });
    const identity = await deps.botIdentity();

    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(data.text, identity.userId);
    } catch (err) {
      const message = userMessageFor(err);
      if (!data.answerTs?.length) {
        await deps.slack.chat.postMessage({
          channel: data.channel,
          thread_ts: data.threadTs,
          markdown_text: message,
          metadata: { event_type: METADATA.notice, event_payload: { request_id: String(job.id) } },
        });
      }
      log.info({ outcome: 'usage', code: isMetisError(err) ? err.code : 'internal' }, 'replied with usage help');
      return { outcome: 'usage', code: isMetisError(err) ? err.code : undefined };
    }

    const answer = new AnswerMessage(deps.slack, {
      channel: data.channel,
      threadTs: data.threadTs,
      requestId: String(job.id),
      editIntervalMs: deps.config.slackOutput.editIntervalMs,
      maxChars: deps.config.slackOutput.messageMaxChars,
      logger: log,
      existingTs: data.answerTs,
    });
    const remember = async () => {
      const ts = answer.messageTs;
      if (ts.join() === (data.answerTs ?? []).join()) return;
      data.answerTs = ts;
      await job.updateData(data);
    };

    /**
     * Puts the request back to wait for access to be fixed (without holding a
     * worker slot), unless it has waited long enough; then it fails clearly.
     */
    const waitForAccess = async (): Promise<void> => {
      data.accessWaitSince ??= Date.now();
      if (Date.now() - data.accessWaitSince >= deps.config.admin.accessWaitMs || !lockToken) return;
      answer.setStatus(WAITING_FOR_ACCESS);
      await answer.flush();
      data.answerTs = answer.messageTs;
      await job.updateData(data);
      await job.moveToDelayed(Date.now() + deps.config.admin.accessProbeMs, lockToken);
      log.info({ waitedMs: Date.now() - data.accessWaitSince }, 'waiting for Metis access to be fixed');
      throw new DelayedError();
    };

    try {
      await answer.begin(data.accessWaitSince ? WAITING_FOR_ACCESS : data.answerTs?.length ? '_Trying again…_' : '_Working on it…_');
      await remember();
    } catch (err) {
      if (err instanceof ConversationGone) {
        log.warn({ slackError: err.slackError }, 'cannot post in this conversation; dropping the request');
        return { outcome: 'conversation_gone', code: err.slackError };
      }
      throw err; // Slack trouble: let the queue try again
    }

    let shownText = false;
    let model: string | undefined;
    try {
      // While access is known to be broken, only one request per interval tries; the rest wait.
      if ((await deps.health.problem()) && !(await deps.health.mayProbe(deps.config.admin.accessProbeMs))) await waitForAccess();
      const snapshot = await deps.catalog.snapshot();
      model = chooseModel(snapshot, parsed.model, parsed.model ? undefined : deps.config.gateway.defaultModel);
      answer.setStatus(`_Asking \`${model}\`…_`);

      const history = data.inThread ? await fetchThread(deps.slack, data.channel, data.threadTs, data.ts) : [];
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
      const outcome = await streamAnswer(deps, snapshot.framework, chosen, built.messages, (raw) => {
        const v = visibleAnswer(raw, { final: false });
        if (v.text.length > 0) shownText = true;
        if (v.thinking && v.text.length === 0) answer.setStatus(`_\`${chosen}\` is thinking…_`);
        answer.update(v.text);
      });
      const finalText = visibleAnswer(outcome.text, { final: true }).text.trim() || '_(The model returned an empty answer.)_';
      await answer.finish(finalText);
      await remember();
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
          queueWaitMs: job.processedOn ? job.processedOn - data.receivedAt : undefined,
          totalMs: Date.now() - data.receivedAt,
        },
        'answered',
      );
      return { outcome: 'answered', model, promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens };
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      await remember().catch(() => undefined);
      if (isAccessProblem(err) && !shownText) await waitForAccess();
      if (err instanceof ConversationGone) {
        log.warn({ slackError: err.slackError }, 'conversation went away mid-answer; dropping the request');
        return { outcome: 'conversation_gone', code: err.slackError };
      }
      const attempts = job.opts.attempts ?? 1;
      const canRetry = isMetisError(err) && err.retryable && !shownText && job.attemptsMade + 1 < attempts;
      if (canRetry) {
        const delayMs = retryDelayMs(err, job.attemptsMade + 1, deps.config.gateway.retryBaseMs);
        log.warn({ code: err.code, err: err.message, delayMs, model }, 'transient failure; the request will be retried');
        answer.setStatus(`_Metis is busy right now; trying again in ${Math.ceil(delayMs / 1000)} s…_`);
        await answer.flush().catch(() => undefined);
        throw new RetryLater(err, delayMs);
      }
      const code = isMetisError(err) ? err.code : 'internal';
      log.error({ code, err: isMetisError(err) ? err.message : err, model }, 'request failed; told the user');
      await answer.fail(userMessageFor(err));
      throw new UnrecoverableError(`${code}: ${isMetisError(err) ? err.message : String(err)}`);
    }
  };
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
  onText: (raw: string) => void,
): Promise<StreamOutcome> {
  return withAccessToken(deps.tokens, async (token) => {
    const out: StreamOutcome = { text: '' };
    const deadline = AbortSignal.timeout(deps.config.gateway.requestTimeoutMs);
    try {
      for await (const ev of deps.gateway.streamChat({
        token,
        framework,
        model,
        messages,
        idleTimeoutMs: deps.config.gateway.streamIdleTimeoutMs,
        signal: deadline,
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
  }, deps.health);
}
