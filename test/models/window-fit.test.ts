/** A question too long for the model asked for: which Live models take it, and what the person reads. */
import { describe, expect, it } from 'vitest';
import { answerReserveTokens, fitToWindow } from '../../src/conversation/token-budget.ts';
import { userMessageFor } from '../../src/errors.ts';
import { modelsTaking, questionTooLongError } from '../../src/models/window-fit.ts';

const LIVE = new Map([
  ['Mistral-Large-3-675B-Instruct-2512', 8192],
  ['gpt-oss-120b', 131_072],
  ['DeepSeek-R1', 65_536],
  ['gemma-4-31B-it', 131_072],
]);

describe('modelsTaking', () => {
  it('lists, in the order given, the models whose window takes the prompt and room for the answer', () => {
    expect(modelsTaking(1000, LIVE)).toEqual([...LIVE.keys()]);
    expect(modelsTaking(8192 - answerReserveTokens(8192), LIVE)).toEqual([...LIVE.keys()]);
    expect(modelsTaking(8192 - answerReserveTokens(8192) + 1, LIVE)).toEqual(['gpt-oss-120b', 'DeepSeek-R1', 'gemma-4-31B-it']);
    expect(modelsTaking(65_536 - 8192 + 1, LIVE)).toEqual(['gpt-oss-120b', 'gemma-4-31B-it']);
    expect(modelsTaking(131_072, LIVE)).toEqual([]);
  });
});

/** A question fitToWindow reports as too long for the model, turned into the error and its words. */
function tooLong(chars: number, model: string, live = LIVE) {
  const question = { role: 'user' as const, content: 'q'.repeat(chars) };
  const windowTokens = live.get(model) ?? 8192;
  const fit = fitToWindow({ system: 'sys', turns: [], question, windowTokens, reserveForAnswerTokens: answerReserveTokens(windowTokens) });
  if (!fit.questionTooLong) throw new Error('expected the question not to fit');
  const err = questionTooLongError({
    model,
    windowTokens,
    questionTokens: fit.questionTooLong.tokens,
    questionChars: chars,
    promptTokens: fit.questionTooLong.promptTokens,
    liveWindows: live,
  });
  return { err, text: userMessageFor(err) };
}

describe('questionTooLongError and its words', () => {
  it('too long for the model asked for: its size, the model\'s window, and the Live models that take it', () => {
    const { err, text } = tooLong(20_000, 'Mistral-Large-3-675B-Instruct-2512');
    expect(err.code).toBe('question_too_long');
    expect(err.details.models).toEqual(['gpt-oss-120b', 'DeepSeek-R1', 'gemma-4-31B-it']);
    expect(text).toBe(
      ':straight_ruler: Your question is too long for `Mistral-Large-3-675B-Instruct-2512`: it may need up to 20,000 tokens (20,000 characters), and it takes 8,192 tokens including its answer. I have not sent it. Live models that take it: `gpt-oss-120b`, `DeepSeek-R1`, `gemma-4-31B-it`; ask again with `-m <model>`.',
    );
  });

  it('too long for one large model leaves out the models that do not take it either', () => {
    const { err } = tooLong(60_000, 'DeepSeek-R1');
    expect(err.details.models).toEqual(['gpt-oss-120b', 'gemma-4-31B-it']);
  });

  it('too long for every Live model says so, with the largest window', () => {
    const { err, text } = tooLong(200_000, 'gpt-oss-120b');
    expect(err.code).toBe('question_too_long_everywhere');
    expect(text).toBe(
      ":straight_ruler: Your question is too long for every model Live on Metis right now: it may need up to 200,000 tokens (200,000 characters), and the largest window, `gpt-oss-120b`'s, is 131,072 tokens including its answer. I have not sent it. Please shorten it, or ask in parts.",
    );
  });

  it('names no model when none is Live, and keeps model names inert', () => {
    const lone = tooLong(9000, 'Mistral-Large-3-675B-Instruct-2512', new Map([['Mistral-Large-3-675B-Instruct-2512', 8192]]));
    expect(lone.err.code).toBe('question_too_long_everywhere');
    expect(lone.text).toContain('largest window, `Mistral-Large-3-675B-Instruct-2512`');
    const none = userMessageFor(questionTooLongError({ model: 'm', windowTokens: 8192, questionTokens: 9000, questionChars: 9000, promptTokens: 9200, liveWindows: new Map() }));
    expect(none).toBe(
      ':straight_ruler: Your question is too long for every model Live on Metis right now: it may need up to 9,000 tokens (9,000 characters). I have not sent it. Please shorten it, or ask in parts.',
    );
    const odd = userMessageFor(questionTooLongError({ model: '<!channel>', windowTokens: 8192, questionTokens: 9000, questionChars: 9000, promptTokens: 9200, liveWindows: new Map([['<@U1>', 131_072]]) }));
    expect(odd).not.toContain('<!channel>');
    expect(odd).not.toContain('<@U1>');
  });
});
