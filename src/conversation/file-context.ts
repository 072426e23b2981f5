/**
 * Files shared with a question, as context for the model: which files can be
 * read at all (decided from Slack's file object before anything is
 * downloaded), how downloaded bytes become text (UTF-8 text; PDF text via
 * unpdf), and how the texts are capped and labelled with their names. Pure:
 * the download itself is reply/slack-files.ts. Nothing is written to disk.
 */
import { extractText, getDocumentProxy } from 'unpdf';
import type { FileRead, FileSkipped } from '../errors.ts';

/** The fields of a Slack file object this reads (slack.md §4.1); a Slack Connect stub has only id, mode, file_access. */
export interface SlackFile {
  id: string;
  name?: string;
  title?: string;
  mimetype?: string;
  filetype?: string;
  size?: number;
  mode?: string;
  url_private?: string;
  url_private_download?: string;
  file_access?: string;
}

export interface FileLimits {
  /** A file larger than this is not downloaded (or the download stops here). */
  maxFileBytes: number;
  /** All files of one question together download at most this much. */
  maxTotalBytes: number;
  /** Characters of one file's text that go into the context. */
  maxFileChars: number;
  /** Characters of all files' text together. */
  maxTotalChars: number;
  /** How long one download (answer and body) may take. */
  timeoutMs: number;
  /** Files read per question; later ones are skipped as over the total. */
  maxFiles: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxFileBytes: 2 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
  maxFileChars: 100_000,
  maxTotalChars: 200_000,
  timeoutMs: 15_000,
  maxFiles: 10,
};

/** One file's text as it goes to the model. */
export interface FilePart {
  /** Slack's file id: which message shared it is known from this. */
  id: string;
  name: string;
  text: string;
}

export interface SharedFiles {
  parts: FilePart[];
  /** What the summary line names as read (with truncation), in the order of `parts`. */
  read: FileRead[];
  skipped: FileSkipped[];
}

const FILE_FIELDS = ['id', 'name', 'title', 'mimetype', 'filetype', 'size', 'mode', 'url_private', 'url_private_download', 'file_access'] as const;

/**
 * The files of a Slack message or event, with only the fields read here:
 * Slack's file objects carry dozens of thumbnails and links, and they are
 * kept in the queued job. Undefined when there are none.
 */
export function pickFiles(files: unknown): SlackFile[] | undefined {
  if (!Array.isArray(files)) return undefined;
  const picked = files
    .filter((f): f is Record<string, unknown> => typeof f === 'object' && f !== null && typeof (f as { id?: unknown }).id === 'string')
    .map((f) => Object.fromEntries(FILE_FIELDS.filter((k) => f[k] !== undefined).map((k) => [k, f[k]])) as unknown as SlackFile);
  return picked.length ? picked : undefined;
}

export type FileKind = 'text' | 'pdf' | 'image' | 'binary' | 'unknown';

/** The name a person sees for a file (a stub has none until files.info). */
export function fileName(f: SlackFile): string {
  return f.name || f.title || f.id;
}

/** A stub that must be completed with files.info before it can be read (Slack Connect). */
export function needsFileInfo(f: SlackFile): boolean {
  return f.file_access === 'check_file_info' || (!f.url_private_download && !f.url_private && f.mode !== 'external');
}

const TEXT_MIME = /^(text\/|application\/(json|ld\+json|xml|javascript|x-javascript|x-sh|x-shellscript|x-python|x-yaml|yaml|toml|x-toml|sql|csv|x-ndjson|x-tex|x-latex|graphql)\b)|\+(json|xml)$/;
/** Slack's `filetype`s for text (snippets and posts are text too). */
const TEXT_FILETYPES = new Set([
  'text', 'markdown', 'post', 'csv', 'tsv', 'json', 'xml', 'yaml', 'toml', 'log', 'html', 'css', 'javascript', 'typescript',
  'python', 'shell', 'bash', 'c', 'cpp', 'csharp', 'go', 'java', 'kotlin', 'rust', 'ruby', 'php', 'perl', 'r', 'matlab',
  'julia', 'fortran', 'sql', 'diff', 'latex', 'scala', 'swift', 'lua', 'haskell', 'ocaml', 'clojure', 'dockerfile', 'makefile', 'ini',
]);
const BINARY_MIME = /^(video|audio|font)\/|^application\/(zip|gzip|x-gzip|x-tar|x-bzip2|x-xz|x-7z-compressed|x-rar-compressed|vnd\.|msword|x-msdownload|x-executable|x-sharedlib|x-hdf5?|x-parquet|wasm)/;

/**
 * What a file is, from Slack's description of it. `unknown` (an
 * application/octet-stream `.out`, say) is downloaded and read as text
 * unless its bytes say binary.
 */
export function classifyFile(f: SlackFile): FileKind {
  const mime = (f.mimetype ?? '').toLowerCase();
  const type = (f.filetype ?? '').toLowerCase();
  if (mime === 'application/pdf' || type === 'pdf') return 'pdf';
  if (mime.startsWith('image/') && mime !== 'image/svg+xml') return 'image';
  if (f.mode === 'snippet' || f.mode === 'post' || TEXT_MIME.test(mime) || TEXT_FILETYPES.has(type) || mime === 'image/svg+xml') return 'text';
  if (BINARY_MIME.test(mime)) return 'binary';
  return 'unknown';
}

/** Bytes scanned for a NUL: text never has one, nearly every binary format does early on. */
const SNIFF_BYTES = 8192;

/** The bytes as text, or undefined when they are binary (a NUL byte, or mostly not UTF-8). */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
  const text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  // A few bad sequences are a Latin-1 name in a log; many mean the file is not text.
  const sample = text.slice(0, SNIFF_BYTES);
  let bad = 0;
  for (const ch of sample) if (ch === '\uFFFD') bad++;
  return bad > sample.length / 10 ? undefined : text;
}

/**
 * An HTML page where the file should be: Slack's sign-in page, which it
 * answers with 200 when the token does not reach it. A file that is itself
 * HTML (declared so by Slack) is content, unless it came from a redirect to
 * a host other than the one the file lives on.
 */
export function isLoginPage(contentType: string | null, head: Uint8Array, f: SlackFile, leftFileHost: boolean): boolean {
  const declaredHtml = /html/i.test(f.mimetype ?? '') || (f.filetype ?? '').toLowerCase() === 'html';
  if (declaredHtml && !leftFileHost) return false;
  if (/text\/html|application\/xhtml/i.test(contentType ?? '')) return true;
  const start = new TextDecoder().decode(head.subarray(0, 512)).trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html');
}

/** The text of a PDF, pages in order; undefined when it has none (a scan) or is not a PDF. Reads from memory only. */
export async function pdfText(bytes: Uint8Array): Promise<string | undefined> {
  try {
    // unpdf may transfer the buffer to its worker; a copy keeps the caller's bytes intact.
    const doc = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      const { text } = await extractText(doc, { mergePages: false });
      const pages = (text as string[]).map((p) => p.trim());
      const joined = pages.length > 1 ? pages.map((p, i) => `[page ${i + 1}]\n${p}`).join('\n\n') : (pages[0] ?? '');
      return pages.some((p) => p !== '') ? joined : undefined;
    } finally {
      await doc.loadingTask.destroy();
    }
  } catch {
    return undefined;
  }
}

/**
 * Adds one file's text within the per-file and total character caps.
 * Returns false when nothing of it fits (the total is used up).
 */
export function addPart(files: SharedFiles, file: { id: string; name: string }, text: string, limits: FileLimits): boolean {
  const { name } = file;
  const used = files.parts.reduce((n, p) => n + p.text.length, 0);
  const room = Math.min(limits.maxFileChars, limits.maxTotalChars - used);
  if (room <= 0) return false;
  const kept = text.length > room ? text.slice(0, room) : text;
  files.parts.push({ id: file.id, name, text: kept });
  files.read.push(kept.length < text.length ? { id: file.id, name, truncated: true, keptChars: kept.length } : { id: file.id, name });
  return true;
}

/** One file as the model reads it: its name, then its text between clear fences. */
export function labelFilePart(part: Pick<FilePart, 'name' | 'text'>): string {
  // The name is a person's text: one line, no fence look-alikes.
  const name = part.name.replace(/[\r\n]+/g, ' ').replace(/`/g, "'");
  // A fence longer than any run of backticks inside, so the file cannot end its own fence.
  const longest = (part.text.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 0);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `File "${name}" (shared in this conversation):\n${fence}\n${part.text}\n${fence}`;
}
