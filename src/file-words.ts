/**
 * The words of the files note, part of the table in words.ts (kept apart
 * only for length): which shared files an answer read, and why the others
 * were skipped.
 */
import { inertEcho } from './inert-text.ts';
import { listSome } from './words.ts';

/** Why a file shared with a question was not read (see conversation/file-context.ts). */
export type FileSkipReason =
  | 'too_big'
  | 'total_cap'
  | 'too_many'
  | 'image'
  | 'binary'
  | 'login_page'
  | 'no_access'
  | 'not_found'
  | 'timeout'
  | 'external'
  | 'unreadable_pdf'
  | 'download_failed'
  | 'no_room';

export interface FileSkipped {
  /** Slack's file id, when known. */
  id?: string;
  name: string;
  reason: FileSkipReason;
  /** The cap it went over, in bytes (too_big, total_cap). */
  limitBytes?: number;
  /** How many files one question reads (too_many). */
  limitFiles?: number;
}

export interface FileRead {
  id?: string;
  name: string;
  /** Only its first `keptChars` characters went in (the rest was over the per-file or total cap). */
  truncated?: boolean;
  keptChars?: number;
}

function sizeWords(bytes: number | undefined): string {
  if (bytes === undefined) return 'the size limit';
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${bytes} bytes`;
}

/** The words for each reason a file was skipped. */
export const FILE_SKIP_WORDS: Record<FileSkipReason, (s: FileSkipped) => string> = {
  too_big: (s) => `over ${sizeWords(s.limitBytes)}`,
  total_cap: (s) => `the files together were over ${sizeWords(s.limitBytes)}`,
  too_many: (s) => `I read at most ${s.limitFiles ?? 'a few'} files per question`,
  image: () => 'images are not read by this model',
  binary: () => 'not a text file or PDF',
  login_page: () => 'Slack sent a sign-in page instead of the file',
  no_access: () => 'I may not open it',
  not_found: () => 'it was deleted',
  timeout: () => 'the download took too long',
  external: () => 'it is stored outside Slack',
  unreadable_pdf: () => 'no text could be read from the PDF',
  download_failed: () => 'the download failed',
  no_room: () => "the conversation already fills the model's context window",
};

/** Files named in one line, at most. */
const LISTED_FILES = 10;

/**
 * The line that tells a person which shared files the answer read and which
 * it skipped and why ("Read: a.log, paper.pdf. Skipped: image.png (images
 * are not read by this model)."); undefined when no file was shared.
 * File names are a person's text, so they are echoed inert.
 */
export function filesNote(read: FileRead[], skipped: FileSkipped[]): string | undefined {
  if (read.length === 0 && skipped.length === 0) return undefined;
  const parts: string[] = [];
  if (read.length) {
    parts.push(
      `Read: ${listSome(read, LISTED_FILES, (r) => `${inertEcho(r.name)}${r.truncated ? ` (the first ${(r.keptChars ?? 0).toLocaleString('en-US')} characters)` : ''}`)}.`,
    );
  }
  if (skipped.length) {
    parts.push(`Skipped: ${listSome(skipped, LISTED_FILES, (s) => `${inertEcho(s.name)} (${FILE_SKIP_WORDS[s.reason](s)})`)}.`);
  }
  return `:paperclip: ${parts.join(' ')}`;
}
