/**
 * The processor for one question: from the queued Slack message to the
 * finished answer (or one clear message) in its thread.
 *
 * It reads top to bottom: the gate (allow lists, usage help, a sign of life),
 * admit (ready to ask, or parked), build the context, stream the answer,
 * record it. Whatever goes wrong after the gate is triaged into retry, park
 * or fail. A parked question (its model is not Live, Metis is under
 * maintenance, access needs a person…: see parking.ts) is a delayed job that
 * holds no worker slot and wakes to check again; the note in its thread says
 * why, and becomes the answer. outcome.ts maps every outcome onto BullMQ.
 */
import type { Job } from 'bullmq';
import { userMessageFor } from '../../errors.ts';
import type { AnswerJobData, AnswerJobResult } from '../answer-job.ts';
import { admit, passGate } from './admit.ts';
import { buildContext, refitAfterRefusal } from './context.ts';
import type { AnswerDeps } from './deps.ts';
import { type Outcome, toBullMQ } from './outcome.ts';
import { record } from './record.ts';
import { type AnswerRun, openRun } from './run.ts';
import { type Streamed, stream } from './stream.ts';
import { plainStatus, STATUS_REFRESH_MS } from '../../reply/thread-status.ts';
import { triage } from './triage.ts';
import { WORDS } from '../../words.ts';

export type { AnswerDeps, BotIdentity } from './deps.ts';

/**
 * How many questions pass the gate at once in one worker. A worker takes up to
 * WORKER_CONCURRENCY jobs at once (500 by default); a burst would otherwise run
 * 500 allow-list checks and placeholder posts back to back and stall the event
 * loop for the answers already streaming (measured: 150–270 ms in one go).
 */
const GATES_AT_ONCE = 32;

/** A counting semaphore: `run` waits for a place, then runs `fn`. */
export function limiter(places: number) {
  let free = places;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

export function createAnswerProcessor(deps: AnswerDeps) {
  const gated = limiter(GATES_AT_ONCE);
  // Three parameters: BullMQ passes an abort signal only to processors that declare it.
  return async function answerQuestion(job: Job<AnswerJobData>, lockToken: string | undefined, signal: AbortSignal | undefined): Promise<AnswerJobResult> {
    const run = openRun(deps, job, lockToken, signal);
    try {
      return await toBullMQ(job, lockToken, await answer(run, deps, gated));
    } finally {
      await run.release(); // the asker's running slot, the streaming count
    }
  };
}

async function answer(run: AnswerRun, deps: AnswerDeps, gated: ReturnType<typeof limiter>): Promise<Outcome> {
  const gate = await gated(() => passGate(run, deps));
  if (gate.kind !== 'through') return gate;
  let outcome: Outcome;
  try {
    const go = await admit(run, deps, gate);
    if (go.kind !== 'proceed') outcome = go;
    else {
      let context = await buildContext(run, deps, go);
      let streamed: Streamed;
      try {
        streamed = await stream(run, deps, go, context);
      } catch (err) {
        // Too long after all (the count is an estimate; the gateway knows): fitted again to its limit, once.
        const refitted = await refitAfterRefusal(run, deps, go, context, err);
        if (!refitted) throw err;
        context = refitted;
        streamed = await stream(run, deps, go, context);
      }
      outcome = { kind: 'finish', result: await record(run, deps, go, context, streamed) };
    }
    // A note that cannot be shown is triaged like any other failure.
    if (outcome.kind === 'park') await conclude(run, outcome);
    else await run.threadStatus.clear(); // finished one way or another (cancelled, refused…): nothing to wait for
    return outcome;
  } catch (err) {
    outcome = await triage(run, deps, err);
  }
  await conclude(run, outcome);
  if (outcome.kind === 'finish') await run.threadStatus.clear(); // ended by triage (a usage limit, a gone conversation)
  return outcome;
}

/** What the thread shows for an outcome before BullMQ hears of it. */
async function conclude(run: AnswerRun, outcome: Outcome): Promise<void> {
  const { progress: p, reply } = run;
  if (!reply) return;
  switch (outcome.kind) {
    case 'park':
      if (outcome.note !== undefined) {
        p.note = outcome.note;
        p.noteCancellable = outcome.cancellable;
      }
      // Only a note that changed is edited (within the edit budget): a parked question wakes often.
      await reply.showWaiting(p.note ?? WORDS.status_waiting(), p.noteCancellable ? run.jobId : undefined);
      await showParkedStatus(run);
      await run.saveProgress();
      return;
    case 'retry':
      await run.threadStatus.clear(); // the next attempt sets its own; a status must not outlive this one by two minutes
      if (outcome.status === undefined) return;
      reply.setStatus(outcome.status);
      await reply.flush().catch(() => undefined);
      return;
    case 'fail':
      await run.threadStatus.clear();
      await reply.fail(userMessageFor(outcome.error));
      await run.audit({ model: outcome.model, outcome: 'error', code: outcome.code, totalMs: Date.now() - run.request.receivedAt }).catch(() => undefined);
      return;
  }
}

/**
 * A parked question's thread status says why it waits: set when that changes,
 * and again on a wake-up once it is close to Slack's 2-minute timeout (the
 * job holds no process in between to refresh it).
 */
async function showParkedStatus(run: AnswerRun): Promise<void> {
  const p = run.progress;
  const status = plainStatus(p.note ?? WORDS.status_waiting());
  const now = Date.now();
  if (p.threadStatus === status && now - (p.threadStatusAt ?? 0) < STATUS_REFRESH_MS) return;
  p.threadStatus = status;
  p.threadStatusAt = now;
  await run.threadStatus.set(status, { refresh: false, again: true });
}
