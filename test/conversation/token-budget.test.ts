/** fitToWindow and its token count: what fits a model's window, newest first, the question never cut. */
import { describe, expect, it } from 'vitest';
import {
  answerReserveTokens,
  type ContextFile,
  fitToWindow,
  MESSAGE_OVERHEAD_TOKENS,
  minimalPromptTokens,
  PROMPT_OVERHEAD_TOKENS,
  tokenUpperBound,
  windowTakes,
} from '../../src/conversation/token-budget.ts';
import type { ChatMessage } from '../../src/gateway/client.ts';

const SYSTEM = 'You are Metis, an assistant answering in a Slack thread.';

/** A 60-message thread of ~600-byte turns, alternating people and the bot, oldest first. */
function thread(n = 60): ChatMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `${i % 2 === 0 ? 'Ada: ' : ''}turn ${i} ${'lorem ipsum dolor sit amet '.repeat(22)}`,
  }));
}
const question: ChatMessage = { role: 'user', content: 'Ada: so which of these should we run first?' };

describe('tokenUpperBound', () => {
  it('counts UTF-8 bytes: never fewer tokens than a byte-level tokenizer could give', () => {
    expect(tokenUpperBound('hello')).toBe(5);
    expect(tokenUpperBound('é')).toBe(2);
    expect(tokenUpperBound('数据')).toBe(6);
    expect(tokenUpperBound('🧪')).toBe(4); // an emoji can take up to 4 byte-fallback tokens
    // One-letter words and minified JSON run at 1.5–2 bytes a token in BPE vocabularies, where "bytes / 3"
    // would undershoot: '{"a":1,"b":2}' is 9 tokens in cl100k ('{"' 'a' '":' '1' ',"' 'b' '":' '2' '}').
    expect(tokenUpperBound('{"a":1,"b":2}')).toBeGreaterThanOrEqual(9);
  });
});

describe('answerReserveTokens', () => {
  it('keeps a quarter of the window for the answer, from 1,024 to 8,192', () => {
    expect(answerReserveTokens(2048)).toBe(1024);
    expect(answerReserveTokens(8192)).toBe(2048);
    expect(answerReserveTokens(131_072)).toBe(8192);
  });
});

describe('fitToWindow', () => {
  const fitThread = (windowTokens: number, extra: Partial<Parameters<typeof fitToWindow>[0]> = {}) =>
    fitToWindow({ system: SYSTEM, turns: thread(), question, windowTokens, reserveForAnswerTokens: answerReserveTokens(windowTokens), ...extra });

  it('an 8,192-token window keeps the newest turns of a 60-message thread, in order, and the question last', () => {
    const r = fitThread(8192);
    expect(r.questionTooLong).toBeUndefined();
    expect(r.droppedTurns).toBeGreaterThan(30);
    expect(r.droppedTurns).toBeLessThan(55);
    const turns = thread();
    expect(r.messages[0]).toEqual({ role: 'system', content: SYSTEM });
    expect(r.messages.at(-1)).toEqual(question);
    // What is kept is the thread's newest stretch, unchanged and in order, opening with a person's turn.
    expect(r.messages.slice(1, -1)).toEqual(turns.slice(r.droppedTurns));
    expect(r.messages[1]?.role).toBe('user');
    expect(r.promptTokens + answerReserveTokens(8192)).toBeLessThanOrEqual(8192);
    // The count is the real sum, and the next older exchange (a person's turn and the answer) would not have fitted.
    const sum = (ms: ChatMessage[]) => PROMPT_OVERHEAD_TOKENS + ms.reduce((s, m) => s + MESSAGE_OVERHEAD_TOKENS + tokenUpperBound(m.content), 0);
    expect(r.promptTokens).toBe(sum(r.messages));
    const older = turns.slice(r.droppedTurns - 2, r.droppedTurns);
    expect(sum([...r.messages, ...older]) + answerReserveTokens(8192)).toBeGreaterThan(8192);
  });

  it('a 131,072-token window takes the same thread whole: no fixed cap drops what the model could take', () => {
    const r = fitThread(131_072);
    expect(r.droppedTurns).toBe(0);
    expect(r.messages).toEqual([{ role: 'system', content: SYSTEM }, ...thread(), question]);
  });

  it('reports a question longer than the window instead of cutting it, and sends nothing', () => {
    const long: ChatMessage = { role: 'user', content: `Ada: ${'x'.repeat(9000)}` };
    const r = fitThread(8192, { question: long });
    expect(r.messages).toEqual([]);
    expect(r.questionTooLong).toEqual({ tokens: 9005, promptTokens: minimalPromptTokens(SYSTEM, long) });
    expect(r.droppedTurns).toBe(60);
    // The same question fits a larger window whole.
    const big = fitThread(131_072, { question: long });
    expect(big.questionTooLong).toBeUndefined();
    expect(big.messages.at(-1)).toEqual(long);
  });

  it('counts the room for the answer: a question that fits the window but not with the reserve is too long', () => {
    const q: ChatMessage = { role: 'user', content: 'y'.repeat(7000) };
    expect(fitThread(8192, { question: q, reserveForAnswerTokens: 0 }).questionTooLong).toBeUndefined();
    expect(fitThread(8192, { question: q }).questionTooLong).toBeDefined();
  });

  it('keeps the newest files, leaves out one too big on its own, and places each before the turn that shared it', () => {
    const turns = thread(6);
    const files: ContextFile[] = [
      { name: 'old.txt', content: 'old file', turnIndex: 0 },
      { name: 'notes.md', content: 'notes '.repeat(50), turnIndex: 4 },
      { name: 'huge.csv', content: 'z'.repeat(50_000) },
      { name: 'plot.py', content: 'print(1)' },
    ];
    const r = fitToWindow({ system: SYSTEM, turns, question, files, windowTokens: 8192, reserveForAnswerTokens: 2048 });
    expect(r.droppedFiles).toEqual(['huge.csv']);
    expect(r.droppedTurns).toBe(0);
    expect(r.messages.map((m) => m.content.slice(0, 8))).toEqual([
      SYSTEM.slice(0, 8),
      'old file',
      ...turns.slice(0, 4).map((t) => t.content.slice(0, 8)),
      'notes no',
      (turns[4] as ChatMessage).content.slice(0, 8),
      (turns[5] as ChatMessage).content.slice(0, 8),
      'print(1)',
      question.content.slice(0, 8),
    ]);
  });

  it('drops the files of dropped turns with them', () => {
    const files: ContextFile[] = [{ name: 'first.txt', content: 'first', turnIndex: 0 }];
    const r = fitToWindow({ system: SYSTEM, turns: thread(), question, files, windowTokens: 8192, reserveForAnswerTokens: 2048 });
    expect(r.droppedFiles).toEqual(['first.txt']);
    expect(r.messages.some((m) => m.content === 'first')).toBe(false);
  });

  it('uses a better tokenizer when given one', () => {
    const r = fitThread(8192, { countTokens: (t) => Math.ceil(Buffer.byteLength(t) / 4) });
    expect(r.droppedTurns).toBeLessThan(fitThread(8192).droppedTurns);
  });
});

describe('windowTakes', () => {
  it('asks for the prompt plus the room for the answer', () => {
    expect(windowTakes(8192, 8192 - 2048)).toBe(true);
    expect(windowTakes(8192, 8192 - 2047)).toBe(false);
  });
});
