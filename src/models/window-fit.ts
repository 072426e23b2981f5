/**
 * Which models take a question that is too long for the one asked for, and
 * the error that says so: the question is never cut silently.
 */
import { windowTakes } from '../conversation/token-budget.ts';
import { MetisError } from '../errors.ts';

/** The models (in the order given) whose window takes a prompt of this many tokens with room for an answer. */
export function modelsTaking(promptTokens: number, windows: ReadonlyMap<string, number>): string[] {
  return [...windows].filter(([, windowTokens]) => windowTakes(windowTokens, promptTokens)).map(([model]) => model);
}

export interface TooLongQuestion {
  /** The model asked for, and its window. */
  model: string;
  windowTokens: number;
  /** The question's own size (the count fitToWindow reported) and its length in characters. */
  questionTokens: number;
  questionChars: number;
  /** The least prompt that carries it (fitToWindow's questionTooLong.promptTokens). */
  promptTokens: number;
  /** Every Live model's window, in the order to list them. */
  liveWindows: ReadonlyMap<string, number>;
}

/**
 * `question_too_long` naming the Live models whose windows take the question,
 * or `question_too_long_everywhere` (with the largest Live window) when none does.
 */
export function questionTooLongError(q: TooLongQuestion): MetisError {
  const size = { requestTokens: q.questionTokens, chars: q.questionChars };
  const others = new Map([...q.liveWindows].filter(([model]) => model !== q.model));
  const takers = modelsTaking(q.promptTokens, others);
  if (takers.length > 0) {
    return new MetisError('question_too_long', `question needs ${q.promptTokens} tokens; ${q.model} takes ${q.windowTokens}`, {
      model: q.model,
      contextTokens: q.windowTokens,
      models: takers,
      ...size,
    });
  }
  const [largest, largestTokens] = [...q.liveWindows].reduce<[string | undefined, number]>(
    (best, [model, tokens]) => (tokens > best[1] ? [model, tokens] : best),
    [undefined, 0],
  );
  return new MetisError('question_too_long_everywhere', `question needs ${q.promptTokens} tokens; no Live model takes it`, {
    model: q.model,
    ...(largest !== undefined ? { models: [largest], contextTokens: largestTokens } : {}),
    ...size,
  });
}
