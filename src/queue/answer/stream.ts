/** Asks the gateway and streams the visible part of the answer into its message, ending with the whole text. */
import { withAccessToken } from '../../auth/access-token.ts';
import { visibleAnswer } from '../../conversation/reasoning.ts';
import { isMetisError, MetisError } from '../../errors.ts';
import type { ChatMessage } from '../../gateway/client.ts';
import { firstTextSeconds, secondsSince } from '../../metrics/registry.ts';
import type { Proceed } from './admit.ts';
import type { AnswerContext } from './context.ts';
import { AnswerStopped } from '../running-answers.ts';
import type { AnswerDeps } from './deps.ts';
import type { AnswerRun } from './run.ts';
import { WORDS } from '../../words.ts';

/** What was visible is worked out at most this often: edits go out once a second anyway. */
const VISIBLE_EVERY_MS = 100;

export interface Streamed {
  /** Everything the model wrote, reasoning included. */
  text: string;
  /** What the answer's message shows in the end. */
  finalText: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Someone stopped the answer (who): the gateway request was closed and the text so far kept. */
  stoppedBy?: string;
}

export async function stream(run: AnswerRun, deps: AnswerDeps, go: Proceed, context: AnswerContext): Promise<Streamed> {
  const reply = run.reply ?? run.openReply();
  let visibleAt = 0;
  const thought = thinkingTimer();
  const thinking = () => {
    thought.started(Date.now());
    reply.setStatus(WORDS.status_thinking({ model: go.model }));
    void run.threadStatus.set(WORDS.thread_status_thinking());
  };
  const show = (raw: string) => {
    const now = Date.now();
    visibleAt = now;
    const v = visibleAnswer(raw, { final: false });
    if (v.text.length > 0 && !run.hasText) {
      firstTextSeconds.observe(secondsSince(run.request.receivedAt));
      thought.ended(now);
      void run.threadStatus.clear(); // the answer has started: its text says the rest
    }
    if (v.text.length > 0) run.hasText = true;
    if (v.thinking && v.text.length === 0) thinking();
    reply.update(thought.before(v.text));
  };
  // Text that comes faster than it is worked out waits for the next turn, never longer: a model that
  // pauses after a burst still has all of the burst shown.
  let latest = '';
  let trailing: NodeJS.Timeout | undefined;
  let out: Awaited<ReturnType<typeof streamAnswer>>;
  try {
    out = await streamAnswer(deps, go.snapshot.framework, go.model, context.messages, run, (raw, reasoning) => {
      // Reasoning sent apart (reasoning_content) is never shown: it only says the model is thinking.
      if (reasoning) {
        if (!run.hasText) thinking();
        return;
      }
      latest = raw;
      const wait = run.hasText ? VISIBLE_EVERY_MS - (Date.now() - visibleAt) : 0;
      if (wait <= 0) return show(raw);
      trailing ??= setTimeout(() => {
        trailing = undefined;
        show(latest);
      }, wait);
    });
  } finally {
    clearTimeout(trailing);
  }
  const shown = thought.before(visibleAnswer(out.text, { final: true }).text.trim());
  // A stopped answer keeps what it had written, marked as stopped.
  const finalText = out.stoppedBy !== undefined ? [shown, WORDS.answer_stopped({ byAsker: out.stoppedBy === run.request.user })].filter(Boolean).join('\n\n') : shown || WORDS.empty_answer();
  const live = go.snapshot.models.filter((m) => m.status === 'Live').map((m) => m.name);
  await run.threadStatus.clear();
  await reply.finish(finalText, { requestId: run.jobId, model: go.model, models: live });
  return { ...out, finalText };
}

/**
 * How long a reasoning model thought before its answer began: a short line put before the answer, once it
 * thought for a second or more (a blink of reasoning is not worth a line).
 */
function thinkingTimer() {
  let since: number | undefined;
  let seconds: number | undefined;
  return {
    started: (now: number) => {
      since ??= now;
    },
    ended: (now: number) => {
      if (since !== undefined && seconds === undefined) seconds = Math.round((now - since) / 1000);
    },
    before: (text: string) => (seconds && text ? `${WORDS.thought_for({ seconds })}\n\n${text}` : text),
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
  run: Pick<AnswerRun, 'lockLost' | 'stopped'>,
  /** The text so far (reasoning sent apart is not in it: `reasoning` says such a piece came). */
  onText: (raw: string, reasoning?: boolean) => void,
): Promise<Omit<Streamed, 'finalText'>> {
  const stoppedBy = () => (run.stopped.reason instanceof AnswerStopped ? run.stopped.reason.by : 'unknown');
  return withAccessToken(
    deps.tokens,
    async (token) => {
      const out: Omit<Streamed, 'finalText'> = { text: '' };
      // Stopped between admission and here: the gateway is not asked at all.
      if (run.stopped.aborted) return { ...out, promptTokens: 0, completionTokens: 0, stoppedBy: stoppedBy() };
      const deadline = AbortSignal.timeout(deps.config.gateway.requestTimeoutMs);
      const signals = [deadline, run.stopped, ...(run.lockLost ? [run.lockLost] : [])];
      try {
        for await (const ev of deps.gateway.streamChat({
          token,
          framework,
          model,
          messages,
          idleTimeoutMs: deps.config.gateway.streamIdleTimeoutMs,
          signal: AbortSignal.any(signals),
        })) {
          if (ev.type === 'text') {
            out.text += ev.text;
            onText(out.text);
          } else if (ev.type === 'reasoning') {
            onText(out.text, true);
          } else {
            out.promptTokens = ev.promptTokens;
            out.completionTokens = ev.completionTokens;
          }
        }
        return out;
      } catch (err) {
        // Stopped: the request is closed (aborting it hangs up on the gateway); the text so far is the answer.
        if (run.stopped.aborted && !run.lockLost?.aborted) return { ...out, stoppedBy: stoppedBy() };
        if (deadline.aborted && !isMetisError(err))
          throw new MetisError('gateway_timeout', 'answer took longer than METIS_REQUEST_TIMEOUT_SECONDS', { model }, false, { cause: err });
        throw err;
      }
    },
    deps.health,
  );
}
