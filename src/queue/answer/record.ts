/** After the answer is shown: usage, limits, budget and audit in one round trip, the notes it owes, and its log line. */
import { MetisError, userMessageFor } from '../../errors.ts';
import { estimateTokens } from '../../team/usage.ts';
import type { AnswerJobResult } from '../answer-job.ts';
import type { Proceed } from './admit.ts';
import type { AnswerContext } from './context.ts';
import type { AnswerDeps } from './deps.ts';
import type { AnswerRun } from './run.ts';
import type { Streamed } from './stream.ts';

export async function record(run: AnswerRun, deps: AnswerDeps, go: Proceed, context: AnswerContext, streamed: Streamed): Promise<AnswerJobResult> {
  const { request: r, log, job } = run;
  const reply = run.reply ?? run.openReply();
  const model = go.model;
  const estimated = streamed.promptTokens === undefined || streamed.completionTokens === undefined;
  const promptTokens = streamed.promptTokens ?? estimateTokens(context.messages.map((m) => m.content).join('\n'));
  const completionTokens = streamed.completionTokens ?? estimateTokens(streamed.text);
  // A stopped answer is counted (its tokens were spent) and marked as stopped.
  const outcome = streamed.stoppedBy !== undefined ? 'stopped' : 'answered';
  // All the bookkeeping at once (auto-pipelined into one round trip). The answer is already shown:
  // if Redis is briefly unreachable, the counts are lost but the request is not failed.
  await Promise.all([
    deps.usage.record({ user: r.user, channel: r.channel, model, promptTokens, completionTokens, ...(outcome === 'stopped' ? { stopped: true } : {}) }),
    deps.limits.recordTokens(r.user, promptTokens + completionTokens),
    deps.budget.recordTokens(model, promptTokens + completionTokens),
    run.audit({
      model,
      outcome,
      ...(streamed.stoppedBy !== undefined ? { code: `stopped_by:${streamed.stoppedBy}` } : {}),
      promptTokens,
      completionTokens,
      tokensEstimated: estimated,
      queueWaitMs: job.processedOn ? job.processedOn - r.receivedAt : undefined,
      totalMs: Date.now() - r.receivedAt,
      question: go.prompt.prompt,
    }),
  ]).catch((err: unknown) => log.warn({ err }, 'could not record usage for an answered question'));
  if (go.ignoredDefault) {
    await reply.note(
      userMessageFor(new MetisError('default_model_unknown', 'METIS_DEFAULT_MODEL is not offered', { setting: 'METIS_DEFAULT_MODEL', model: go.ignoredDefault, models: [model] })),
    );
  }
  if (context.filesNote) await reply.note(context.filesNote);
  log.info(
    {
      outcome,
      model,
      promptTokens: streamed.promptTokens,
      completionTokens: streamed.completionTokens,
      answerChars: streamed.finalText.length,
      contextTurns: context.messages.length - 2,
      droppedTurns: context.droppedTurns,
      windowTokens: context.windowTokens,
      promptTokensCounted: context.promptTokens,
      coldStartMs: run.progress.coldStartSince ? Date.now() - run.progress.coldStartSince : undefined,
      queueWaitMs: job.processedOn ? job.processedOn - r.receivedAt : undefined,
      totalMs: Date.now() - r.receivedAt,
    },
    outcome,
  );
  return { outcome, model, promptTokens: streamed.promptTokens, completionTokens: streamed.completionTokens };
}
