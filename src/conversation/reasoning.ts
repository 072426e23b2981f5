/**
 * Hides a reasoning model's chain of thought. DeepSeek-R1 writes
 * `<think> … </think>` inline before its answer; the original R1 may omit the
 * opening tag, and a stream can stop anywhere, so this works on the text
 * received so far and is safe to call on every partial stream.
 */

const OPEN = '<think>';
const CLOSE = '</think>';

export interface VisibleText {
  /** What may be shown to people. */
  text: string;
  /** The model is inside a reasoning block right now. */
  thinking: boolean;
}

/** A trailing piece that might be the start of a tag still arriving ("<thi"). */
function partialTagLength(text: string): number {
  for (let n = Math.min(CLOSE.length - 1, text.length); n > 0; n--) {
    const tail = text.slice(-n);
    if (OPEN.startsWith(tail) || CLOSE.startsWith(tail)) return n;
  }
  return 0;
}

export function visibleAnswer(raw: string, options: { final: boolean }): VisibleText {
  let text = raw;
  let thinking = false;

  // An answer whose first tag is a closing one started inside reasoning (R1 without <think>).
  const firstClose = text.indexOf(CLOSE);
  const firstOpen = text.indexOf(OPEN);
  if (firstClose !== -1 && (firstOpen === -1 || firstClose < firstOpen)) {
    text = text.slice(firstClose + CLOSE.length);
  }

  let out = '';
  let at = 0;
  for (;;) {
    const open = text.indexOf(OPEN, at);
    if (open === -1) {
      out += text.slice(at);
      break;
    }
    out += text.slice(at, open);
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) {
      thinking = true; // unclosed: everything after it is reasoning so far
      break;
    }
    at = close + CLOSE.length;
  }

  if (!options.final && !thinking) out = out.slice(0, out.length - partialTagLength(out));
  return { text: out.replace(/^\s+/, ''), thinking: thinking && !options.final };
}
