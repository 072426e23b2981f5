/**
 * Reads what a person typed after @metis: leading options, then the question.
 * Only a leading `-m`/`--model` is an option; a question may itself start with
 * a dash ("-5 °C is how much in F?") as long as it is not `-x`/`--word`.
 */
import { MetisError } from '../errors.ts';

export interface ParsedRequest {
  /** The question, Slack markup still in place. */
  prompt: string;
  /** The model name or fragment given with -m/--model, if any. */
  model?: string;
}

const MODEL_FLAG = /^(?:-m|--model)(?:=(\S+)|\s+(\S+)|(?=\s*$))/;
const ANY_FLAG = /^(--[A-Za-z][\w-]*|-[A-Za-z])(?=[\s=]|$)/;

/** Removes every mention of the bot itself (`<@U123>` or `<@U123|metis>`). */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  if (!botUserId) return text;
  // The label stops at `<` (Slack escapes it in text), so an unclosed `<@U123|` is not rescanned to the end.
  return text.replace(new RegExp(`<@${botUserId}(?:\\|[^<>]*)?>`, 'g'), ' ');
}

export function parseRequest(text: string, botUserId?: string): ParsedRequest {
  let rest = stripBotMention(text, botUserId).trim();
  let model: string | undefined;
  for (;;) {
    const m = MODEL_FLAG.exec(rest);
    if (m) {
      const value = m[1] ?? m[2];
      if (!value) throw new MetisError('unknown_model', 'model option without a name', { model: '' });
      model = value;
      rest = rest.slice(m[0].length).trimStart();
      continue;
    }
    const other = ANY_FLAG.exec(rest);
    if (other) throw new MetisError('unknown_option', `unknown option ${other[1]}`, { option: other[1] });
    break;
  }
  const prompt = rest.trim();
  if (prompt === '') throw new MetisError('empty_prompt', 'nothing to answer');
  return model === undefined ? { prompt } : { prompt, model };
}
