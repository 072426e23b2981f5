/**
 * Before a question is put to the gateway: the gate (allow lists, usage help,
 * the answer's first sign of life in its thread), then admission (cancelled?
 * paused? over a limit? access, the model, the token budget and the asker's
 * turn). Whatever is not ready parks the question; what goes on carries the
 * model and the parsed prompt.
 */
import { parseRequest } from '../../conversation/parse-request.ts';
import { isMetisError, userMessageFor } from '../../errors.ts';
import { countStreaming } from '../../metrics/instrument.ts';
import { firstSignOfLifeSeconds, secondsSince } from '../../metrics/registry.ts';
import type { SnapshotView } from '../../models/catalog.ts';
import { chooseModel } from '../../models/choose-model.ts';
import { ConversationGone } from '../../reply/reply.ts';
import { findRequestMessages } from '../../reply/thread-history.ts';
import { type PolicyDecision, refusalText } from '../../team/access-policy.ts';
import { limitMessage } from '../../team/limits.ts';
import type { AnswerDeps, BotIdentity } from './deps.ts';
import type { Finish, Park, Retry } from './outcome.ts';
import { accessWait, modelWait, parks } from './parking.ts';
import type { AnswerRun } from './run.ts';
import { LimitReached, triageGate } from './triage.ts';
import { WORDS } from '../../words.ts';

type Prefetched = Awaited<ReturnType<typeof prefetch>>;

/** Past the gate: the asker may ask, and the answer's message shows a sign of life. */
export interface Through {
  kind: 'through';
  identity: BotIdentity;
  prompt: ReturnType<typeof parseRequest>;
  /** The question was parked waiting for its model when this attempt began. */
  waiting: boolean;
  state: Promise<Prefetched>;
}

/** Cleared to ask the gateway. */
export interface Proceed {
  kind: 'proceed';
  identity: BotIdentity;
  prompt: ReturnType<typeof parseRequest>;
  model: string;
  snapshot: SnapshotView;
  /** METIS_DEFAULT_MODEL's value when it names no model Metis offers (the answer then says so). */
  ignoredDefault?: string;
}

/** Everything admission needs to know, read at once (auto-pipelined into one Redis round trip). */
function prefetch(run: AnswerRun, deps: AnswerDeps) {
  const { request: r, progress: p } = run;
  return Promise.all([
    deps.cancellations.cancelledBy(run.jobId),
    deps.control.paused(),
    deps.health.problem(),
    p.model ? Promise.resolve(undefined) : deps.preferences.forThread(r.channel, r.threadTs),
    // Only what Redis holds: a refused request must not make the bot ask the gateway anything.
    deps.catalog.lastKnown(),
  ]);
}

/**
 * The gate. Its failures are not triaged: the allow-list check's have rules
 * of their own, and Slack trouble before anything was shown is retried.
 */
export async function passGate(run: AnswerRun, deps: AnswerDeps): Promise<Through | Finish | Retry> {
  const { request: r, progress: p, log } = run;
  const identity = await deps.botIdentity();
  // Asked for now so that it travels in the same Redis round trip as the allow-list check; harmless if the request is refused.
  const waiting = p.coldStartSince !== undefined;
  const state = prefetch(run, deps);
  state.catch(() => undefined); // awaited in admit; not an unhandled rejection meanwhile
  let decision: PolicyDecision;
  try {
    decision = p.answerTs?.length ? { allowed: true as const } : await deps.policy.check({ user: r.user, channel: r.channel, teamId: r.teamId });
  } catch (err) {
    return await triageGate(run, deps, err);
  }
  if (!decision.allowed) {
    await deps.slack.chat.postEphemeral({ channel: r.channel, user: r.user, thread_ts: r.threadTs, text: refusalText(decision.reason) });
    log.info({ outcome: 'refused', reason: decision.reason }, 'refused by the allow lists');
    await run.audit({ outcome: 'refused', code: decision.reason });
    return { kind: 'finish', result: { outcome: 'refused', code: decision.reason } };
  }

  // Parsed only once the asker is allowed: people the allow lists refuse get the refusal, never public help.
  let prompt: ReturnType<typeof parseRequest>;
  try {
    prompt = parseRequest(r.text, identity.userId);
  } catch (err) {
    if (!p.answerTs?.length) await run.notice(userMessageFor(err));
    log.info({ outcome: 'usage', code: isMetisError(err) ? err.code : 'internal' }, 'replied with usage help');
    return { kind: 'finish', result: { outcome: 'usage', code: isMetisError(err) ? err.code : undefined } };
  }

  // Picked up again after a worker died: it may have posted a placeholder it had no time to record.
  if (!p.answerTs?.length && (run.job.attemptsStarted ?? 0) > 1) {
    p.answerTs = await findRequestMessages(deps.slack, r.channel, r.threadTs, run.jobId, r.ts).catch(() => undefined);
  }
  const reply = run.openReply();
  try {
    // A waiting question keeps showing why it waits; one picked up after a failure says it is trying again.
    const firstShowing = !p.answerTs?.length;
    const resumed = firstShowing ? WORDS.status_working() : WORDS.status_trying_again();
    await reply.begin(p.note ?? resumed, p.note && p.noteCancellable ? run.jobId : undefined, p.note !== undefined);
    if (firstShowing) firstSignOfLifeSeconds.observe(secondsSince(r.receivedAt));
    await run.saved(); // the placeholder's ts is stored before anything else can fail
    // The asker's replies in this thread are follow-ups from now on (answered without a mention).
    if (r.source !== 'dm') await deps.threadAskers.remember(r.channel, r.threadTs, r.user).catch((err: unknown) => log.warn({ err }, 'could not note the thread\'s asker'));
  } catch (err) {
    if (err instanceof ConversationGone) {
      log.warn({ slackError: err.slackError }, 'cannot post in this conversation; dropping the request');
      return { kind: 'finish', result: { outcome: 'conversation_gone', code: err.slackError } };
    }
    return { kind: 'retry', cause: err }; // Slack trouble: let the queue try again
  }
  return { kind: 'through', identity, prompt, waiting, state };
}

/** Admission: proceed, park, or finish (cancelled). Throws what triage decides on. */
export async function admit(run: AnswerRun, deps: AnswerDeps, gate: Through): Promise<Proceed | Park | Finish> {
  const { request: r, progress: p, log } = run;
  const reply = run.reply ?? run.openReply();
  const [cancelledBy, paused, problem, prefs, lastKnown] = await gate.state;
  const knownSnapshot = await deps.catalog.snapshot(gate.waiting ? deps.config.models.coldStartPollMs : undefined, lastKnown).catch((err: unknown) => err as Error);
  if (cancelledBy) {
    await reply.fail(WORDS.cancelled_by({ user: cancelledBy }), [cancelledBy]);
    log.info({ outcome: 'cancelled', model: run.model }, 'request cancelled while waiting');
    return { kind: 'finish', result: { outcome: 'cancelled', model: run.model } };
  }
  if (paused) return parks.paused();
  if (!p.admitted) {
    const admitted = await deps.limits.admit(r.user, r.channel);
    if (!admitted.ok) throw new LimitReached(limitMessage(admitted));
    p.admitted = true;
  }
  // While access is known to be broken, only one request per interval tries; the rest wait.
  if (problem && !(await deps.health.mayProbe(deps.config.admin.accessProbeMs))) {
    const wait = accessWait(p, Date.now(), deps.config.admin);
    Object.assign(p, wait.progress);
    if (wait.kind === 'park') {
      log.info(wait.log, 'waiting for Metis access to be fixed');
      return wait.park;
    }
  }
  if (knownSnapshot instanceof Error) throw knownSnapshot;
  const snapshot = knownSnapshot;
  let ignoredDefault: string | undefined;
  if (!run.model) {
    const choice = chooseModel(snapshot, { flag: gate.prompt.model ?? r.chosenModel, thread: prefs?.thread, channel: prefs?.channel, configured: deps.config.gateway.defaultModel });
    run.model = choice.model;
    // A waiting question keeps a model someone chose; "the first Live one" is chosen again when it wakes.
    if (choice.source !== 'first-live' && choice.source !== 'first-listed') p.model = choice.model;
    // A thread keeps the model last named with -m in it; defaults and fallbacks are looked up afresh.
    if (choice.source === 'flag' || choice.source === 'thread') await deps.preferences.rememberForThread(r.channel, r.threadTs, choice.model);
    ignoredDefault = choice.ignoredDefault;
  }
  const model = run.model;
  const wait = modelWait(model, snapshot, p, Date.now(), deps.config.models);
  Object.assign(p, wait.progress);
  if (wait.kind === 'park') {
    log.info(wait.log, 'waiting for the model to be Live');
    return wait.park;
  }
  if (wait.kind === 'give-up') throw wait.error;
  const tokenWaitMs = await deps.budget.tokensWaitMs(model);
  if (tokenWaitMs > 0) return parks.teamTokens(model, tokenWaitMs);
  // A running slot is needed only to ask the gateway: waiting checks above cost the person nothing.
  if (!(await deps.fairShare.start(r.user, run.jobId))) return parks.turn(p.note !== undefined);
  run.defer(() => deps.fairShare.stop(r.user, run.jobId).catch(() => undefined));
  if (p.note !== undefined) {
    p.note = undefined;
    p.noteCancellable = undefined;
    p.threadStatus = undefined;
    p.threadStatusAt = undefined;
    void run.saveProgress(); // a worker taking over from here must not think the note is still all the message shows
  }
  run.defer(countStreaming(deps.editPacer.track()));
  reply.setStatus(WORDS.status_asking({ model }));
  void run.threadStatus.set(WORDS.thread_status_asking({ model }));
  return { kind: 'proceed', identity: gate.identity, prompt: gate.prompt, model, snapshot, ...(ignoredDefault ? { ignoredDefault } : {}) };
}
