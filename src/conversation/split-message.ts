/**
 * Splits a long markdown answer into Slack-sized messages without breaking a
 * code block: a fence open at a cut is closed at the end of one message and
 * reopened, with its language, at the start of the next.
 */

export interface Piece {
  /** The message text as sent. */
  text: string;
  /** The part of the original answer this message carries (no added fences). */
  body: string;
}

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+#.-]{0,20})/;

/** The fence (marker and language) still open at the end of `text`, if any. */
export function openFence(text: string, startOpen?: { marker: string; lang: string }) {
  let open = startOpen;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (!m) continue;
    const marker = m[1] as string;
    if (!open) open = { marker, lang: m[2] ?? '' };
    else if (marker === open.marker) open = undefined;
  }
  return open;
}

function isLowSurrogate(code: number) {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Where to cut `text` so that the cut piece holds at most `max` chars. */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max);
  const floor = Math.floor(max / 2);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at >= floor) return at + sep.length;
  }
  let cut = max;
  if (isLowSurrogate(text.charCodeAt(cut))) cut -= 1; // never split an emoji in half
  return cut;
}

/**
 * Takes the first message off `text`. `carry` is a fence left open by the
 * previous message, reopened here.
 */
export function takePiece(
  text: string,
  limit: number,
  carry?: { marker: string; lang: string },
): { piece: Piece; rest: string; carry?: { marker: string; lang: string } } {
  const prefix = carry ? `${carry.marker}${carry.lang}\n` : '';
  const closeReserve = 4; // "\n```"
  if (prefix.length + text.length <= limit && !openFence(text, carry)) {
    return { piece: { text: prefix + text, body: text }, rest: '' };
  }
  if (prefix.length + text.length <= limit - closeReserve) {
    const open = openFence(text, carry);
    const suffix = open ? `${text.endsWith('\n') ? '' : '\n'}${open.marker}` : '';
    return { piece: { text: prefix + text + suffix, body: text }, rest: '' };
  }
  const budget = Math.max(1, limit - prefix.length - closeReserve);
  const cut = cutPoint(text, budget);
  const body = text.slice(0, cut);
  const open = openFence(body, carry);
  const suffix = open ? `${body.endsWith('\n') ? '' : '\n'}${open.marker}` : '';
  return { piece: { text: prefix + body + suffix, body }, rest: text.slice(cut), carry: open };
}

/** All messages for `text`, each at most `limit` characters. */
export function splitMessage(text: string, limit: number): Piece[] {
  const pieces: Piece[] = [];
  let rest = text;
  let carry: { marker: string; lang: string } | undefined;
  do {
    const taken = takePiece(rest, limit, carry);
    pieces.push(taken.piece);
    rest = taken.rest;
    carry = taken.carry;
  } while (rest.length > 0);
  return pieces;
}

/** What a message being streamed can show of `text` (the answer from this message on) before the rest has arrived. */
export interface StablePiece {
  /** Text this message will show in the end whatever follows: all of it once `complete`. */
  text: string;
  /** The message's text is settled: it ends here (the answer is final, or it is cut). */
  complete: boolean;
  /** When complete: the part of the answer it carries, and a fence it leaves open. */
  body?: string;
  carry?: { marker: string; lang: string };
}

/**
 * The start of the message takePiece will make of `text` once it is whole,
 * as far as it can be known now: a stream appends it and can take nothing
 * back. Until the cut is known it ends where cutPoint cannot cut earlier
 * (its separators are tried in the same order) and at whitespace, before any
 * `<` still unclosed, so a Slack token or broadcast is never sent half-made.
 */
export function stablePiece(text: string, limit: number, carry: { marker: string; lang: string } | undefined, final: boolean): StablePiece {
  const prefix = carry ? `${carry.marker}${carry.lang}\n` : '';
  const taken = takePiece(text, limit, carry);
  if (final || (taken.rest.length > 0 && prefix.length + text.length > limit)) {
    return { text: taken.piece.text, complete: true, body: taken.piece.body, ...(taken.carry ? { carry: taken.carry } : {}) };
  }
  const budget = Math.max(1, limit - prefix.length - 4);
  const window = text.slice(0, budget);
  const floor = Math.floor(budget / 2);
  let end = Math.min(floor, text.length);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at >= floor) {
      end = at;
      break;
    }
  }
  // Back to whitespace before any unclosed `<` (what a token turns into depends on what follows it up to the next space).
  for (;;) {
    end = Math.max(text.lastIndexOf(' ', end), text.lastIndexOf('\n', end), 0);
    const open = end > 0 ? text.lastIndexOf('<', end - 1) : -1;
    if (open === -1 || /[<>]/.test(text.slice(open + 1, end))) break;
    end = open;
  }
  return { text: prefix + text.slice(0, end), complete: false };
}
