/**
 * Fits a conversation into a model's context window, counted in tokens: the
 * question always (never cut: one that does not fit is reported), then the
 * newest turns and files, the oldest dropped first. Pure functions.
 *
 * The count never undershoots. The models behind Metis (Llama 3, gpt-oss,
 * DeepSeek, Qwen, Mistral, Gemma) use byte-level BPE or SentencePiece with
 * byte fallback: every token stands for at least one byte of the text (a
 * merge only ever joins bytes), so a text never takes more tokens than its
 * UTF-8 bytes. The few tokens a text can take beyond its bytes come from the
 * chat template (role headers, end-of-turn markers, a dummy-prefix space) and
 * are counted per message and per prompt below. The bound is loose for
 * English (about 4 bytes a token), which costs small windows room; a
 * tokenizer for each model could be passed as `countTokens` to tighten it.
 */
import type { ChatMessage } from '../gateway/client.ts';

/** Template tokens around one message: a role header and an end-of-turn marker (Llama 3 uses 5). */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** Template tokens around the whole prompt: BOS, the assistant's header, a default preamble (gpt-oss adds ~60). */
export const PROMPT_OVERHEAD_TOKENS = 128;

/** At least as many tokens as any of these models' tokenizers gives the text: one per UTF-8 byte. */
export function tokenUpperBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Room kept for the answer: a quarter of the window, from 1,024 up to 8,192
 * tokens (enough for a long answer, or a reasoning model's thinking and answer).
 */
export function answerReserveTokens(windowTokens: number): number {
  return Math.min(8192, Math.max(1024, Math.floor(windowTokens / 4)));
}

/** A file's text, as a user message of its own placed before the turn that shared it. */
export interface ContextFile {
  name: string;
  /** The text sent to the model, already wrapped as it should read. */
  content: string;
  /** Index in `turns` of the message that shared it; absent when it came with the question. */
  turnIndex?: number;
}

export interface FitInput {
  system: string;
  /** Earlier turns, oldest first, without the question. */
  turns: readonly ChatMessage[];
  question: ChatMessage;
  files?: readonly ContextFile[];
  windowTokens: number;
  reserveForAnswerTokens: number;
  countTokens?: (text: string) => number;
}

export interface FitResult {
  /** System, kept turns and files in thread order, then the question; empty when the question does not fit. */
  messages: ChatMessage[];
  droppedTurns: number;
  /** Names of the files left out, newest first. */
  droppedFiles: string[];
  /** The counted size of what is sent (template overhead included). */
  promptTokens: number;
  /**
   * The question does not fit even alone: `tokens` is the question's own
   * count, `promptTokens` the least prompt that carries it (system, question,
   * template), to compare with other models' windows.
   */
  questionTooLong?: { tokens: number; promptTokens: number };
}

/** The least prompt that carries the question: system, question and template overhead. */
export function minimalPromptTokens(system: string, question: ChatMessage, countTokens = tokenUpperBound): number {
  return PROMPT_OVERHEAD_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + countTokens(system) + countTokens(question.content);
}

/** Whether a model with this window takes a prompt of this many tokens and still has room to answer. */
export function windowTakes(windowTokens: number, promptTokens: number): boolean {
  return promptTokens + answerReserveTokens(windowTokens) <= windowTokens;
}

/**
 * Keeps the question, then walks back from the newest turn: a turn that does
 * not fit ends the walk (older turns go too, so the thread has no holes); a
 * file that does not fit is left out on its own (so one big file does not cost
 * the whole thread), and files older than the last kept turn go with it.
 */
export function fitToWindow(input: FitInput): FitResult {
  const count = input.countTokens ?? tokenUpperBound;
  const cost = (m: { content: string }) => MESSAGE_OVERHEAD_TOKENS + count(m.content);
  const files = input.files ?? [];
  const minimal = minimalPromptTokens(input.system, input.question, count);
  const budget = input.windowTokens - input.reserveForAnswerTokens;
  if (minimal > budget) {
    return {
      messages: [],
      droppedTurns: input.turns.length,
      droppedFiles: files.map((f) => f.name).reverse(),
      promptTokens: 0,
      questionTooLong: { tokens: count(input.question.content), promptTokens: minimal },
    };
  }

  let used = minimal;
  const keptFiles = new Set<ContextFile>();
  const takeFiles = (turnIndex: number | undefined) => {
    for (const f of files.filter((x) => x.turnIndex === turnIndex).reverse()) {
      if (used + cost(f) > budget) continue;
      used += cost(f);
      keptFiles.add(f);
    }
  };
  takeFiles(undefined);
  let first = input.turns.length; // index of the oldest kept turn
  for (let i = input.turns.length - 1; i >= 0; i--) {
    const turn = input.turns[i] as ChatMessage;
    if (used + cost(turn) > budget) break;
    used += cost(turn);
    first = i;
    takeFiles(i);
  }
  // Some chat templates refuse a conversation that opens with an assistant turn.
  while (first < input.turns.length && input.turns[first]?.role === 'assistant') {
    used -= cost(input.turns[first] as ChatMessage);
    for (const f of files.filter((x) => x.turnIndex === first && keptFiles.has(x))) {
      keptFiles.delete(f);
      used -= cost(f);
    }
    first += 1;
  }

  const filesOf = (turnIndex: number | undefined): ChatMessage[] =>
    files.filter((f) => f.turnIndex === turnIndex && keptFiles.has(f)).map((f) => ({ role: 'user', content: f.content }));
  const body: ChatMessage[] = [];
  for (let i = first; i < input.turns.length; i++) body.push(...filesOf(i), input.turns[i] as ChatMessage);
  return {
    messages: [{ role: 'system', content: input.system }, ...body, ...filesOf(undefined), input.question],
    droppedTurns: first,
    droppedFiles: files.filter((f) => !keptFiles.has(f)).map((f) => f.name).reverse(),
    promptTokens: used,
  };
}
