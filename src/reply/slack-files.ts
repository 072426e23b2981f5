/**
 * Reads the files shared with a question (and earlier in its thread) from
 * Slack, as text for the model's context. Each file is downloaded with the
 * bot token (scope `files:read`) from `url_private_download`, in memory only:
 * nothing is written to disk. Downloads have a timeout and a size cap that
 * stops reading past it, and an HTML page where a file should be (Slack's
 * sign-in page, which it answers with 200 when the token did not reach it)
 * is a failure, never content.
 *
 * Redirects are followed by hand, because the token's destination is ours to
 * decide: it goes to the file's own origin and to Slack's hosts
 * (`*.slack.com`, over HTTPS), where Slack's own hops still need it; to any
 * other host (Slack's CDN, `*.slack-edge.com`, serves presigned URLs that
 * need none) the request goes without it, and that is logged, so a sign-in
 * page or a refusal there reads as `login_page` / `no_access` rather than as
 * a silent failure.
 */
import type { WebClient } from '@slack/web-api';
import {
  addPart,
  classifyFile,
  DEFAULT_FILE_LIMITS,
  decodeText,
  type FileLimits,
  fileName,
  isLoginPage,
  needsFileInfo,
  pdfText,
  type SharedFiles,
  type SlackFile,
} from '../conversation/file-context.ts';
import type { FileSkipped, FileSkipReason } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { slackFailure } from './web-client.ts';

export interface SlackFilesDeps {
  /** For files.info (Slack Connect stubs). */
  client: WebClient;
  /** The pooled fetch (http/fetch.ts): proxies honoured, redirects not followed on its own. */
  fetch: typeof globalThis.fetch;
  /** The bot token, sent only where `tokenMayGo` allows. */
  token: string;
  log: Logger;
}

/** Redirects one download may follow (Slack uses one or two). */
const MAX_REDIRECTS = 5;

/** Whether the bot token may be sent to `to`, for a file that lives at `file`. */
export function tokenMayGo(file: URL, to: URL): boolean {
  if (to.origin === file.origin) return true;
  return to.protocol === 'https:' && (to.hostname === 'slack.com' || to.hostname.endsWith('.slack.com'));
}

type Download = { bytes: Uint8Array } | { reason: FileSkipReason; status?: number };

/** Reads a body up to `maxBytes`; past it, stops reading and closes the connection (undefined). */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

async function download(deps: SlackFilesDeps, f: SlackFile, maxBytes: number, timeoutMs: number): Promise<Download> {
  const fileUrl = new URL(f.url_private_download ?? f.url_private ?? '');
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const log = deps.log.child({ file: f.id });
  let url = fileUrl;
  try {
    for (let hop = 0; ; hop++) {
      const withToken = tokenMayGo(fileUrl, url);
      const res = await deps.fetch(url, {
        headers: withToken ? { authorization: `Bearer ${deps.token}` } : {},
        redirect: 'manual',
        signal: abort.signal,
      });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel().catch(() => undefined);
        const next = new URL(location, url);
        if (hop >= MAX_REDIRECTS || (url.protocol === 'https:' && next.protocol !== 'https:')) {
          log.warn({ status: res.status, from: url.host, to: next.host, hop }, 'file download: redirect refused (too many, or from HTTPS to plain HTTP)');
          return { reason: 'download_failed', status: res.status };
        }
        if (withToken && !tokenMayGo(fileUrl, next)) {
          log.info({ from: url.host, to: next.host }, 'file download redirected to another host; following without the bot token');
        }
        url = next;
        continue;
      }
      const leftFileHost = url.origin !== fileUrl.origin;
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        const reason = res.status === 401 || res.status === 403 || (leftFileHost && res.status === 404) ? 'no_access' : res.status === 404 || res.status === 410 ? 'not_found' : 'download_failed';
        log.warn({ status: res.status, host: url.host, withToken }, 'file download refused');
        return { reason, status: res.status };
      }
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      if (declared > maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        return { reason: 'too_big' };
      }
      const bytes = res.body ? await readCapped(res.body, maxBytes) : new Uint8Array();
      if (!bytes) return { reason: 'too_big' };
      if (isLoginPage(res.headers.get('content-type'), bytes, f, leftFileHost)) {
        log.warn({ host: url.host, withToken, redirected: hop > 0 }, 'file download answered with an HTML page instead of the file (the token did not reach Slack, or lacks files:read)');
        return { reason: 'login_page' };
      }
      return { bytes };
    }
  } catch (err) {
    if (timedOut) {
      log.warn({ timeoutMs, host: url.host }, 'file download timed out');
      return { reason: 'timeout' };
    }
    log.warn({ err, host: url.host }, 'file download failed');
    return { reason: 'download_failed' };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** A Slack Connect stub completed by files.info, or why it cannot be. */
async function fileInfo(deps: SlackFilesDeps, stub: SlackFile): Promise<SlackFile | { reason: FileSkipReason }> {
  try {
    const res = await deps.client.files.info({ file: stub.id });
    return { ...stub, ...(res.file as SlackFile) };
  } catch (err) {
    const error = slackFailure(err)?.error;
    deps.log.warn({ err, file: stub.id, error }, 'files.info failed for a shared file');
    if (error === 'file_not_found' || error === 'file_deleted') return { reason: 'not_found' };
    if (error === 'no_permission' || error === 'missing_scope' || error === 'access_denied' || error === 'not_allowed_token_type') return { reason: 'no_access' };
    return { reason: 'download_failed' };
  }
}

/**
 * The text of every file that can be read, each under its name, within the
 * limits; and every file that was not, with the reason. A file shared twice
 * (in the question and earlier in the thread) is read once. Never throws:
 * each failure is one skipped file, logged for the operator.
 */
export async function readSharedFiles(deps: SlackFilesDeps, files: readonly SlackFile[], limits: FileLimits = DEFAULT_FILE_LIMITS): Promise<SharedFiles> {
  const out: SharedFiles = { parts: [], read: [], skipped: [] };
  const seen = new Set<string>();
  let downloadedBytes = 0;
  let tried = 0;
  for (const shared of files) {
    if (seen.has(shared.id)) continue;
    seen.add(shared.id);
    const skip = (f: SlackFile, reason: FileSkipReason, extra: Partial<FileSkipped> = {}) => out.skipped.push({ id: shared.id, name: fileName(f), reason, ...extra });
    if (tried >= limits.maxFiles) {
      skip(shared, 'too_many', { limitFiles: limits.maxFiles });
      continue;
    }
    tried++;
    let f = shared;
    if (needsFileInfo(f)) {
      const info = await fileInfo(deps, f);
      if ('reason' in info) {
        skip(f, info.reason);
        continue;
      }
      f = info;
    }
    if (f.mode === 'tombstone') {
      skip(f, 'not_found');
      continue;
    }
    const location = f.url_private_download ?? f.url_private;
    if (f.mode === 'external' || !location) {
      skip(f, 'external');
      continue;
    }
    if (!URL.canParse(location)) {
      deps.log.warn({ file: f.id }, 'shared file has no valid download URL');
      skip(f, 'download_failed');
      continue;
    }
    const kind = classifyFile(f);
    if (kind === 'image' || kind === 'binary') {
      skip(f, kind);
      continue;
    }
    if ((f.size ?? 0) > limits.maxFileBytes) {
      skip(f, 'too_big', { limitBytes: limits.maxFileBytes });
      continue;
    }
    const roomBytes = limits.maxTotalBytes - downloadedBytes;
    const roomChars = limits.maxTotalChars - out.parts.reduce((n, p) => n + p.text.length, 0);
    if ((f.size ?? 0) > roomBytes || roomBytes <= 0 || roomChars <= 0) {
      skip(f, 'total_cap', roomChars <= 0 ? {} : { limitBytes: limits.maxTotalBytes });
      continue;
    }
    const capBytes = Math.min(limits.maxFileBytes, roomBytes);
    const got = await download(deps, f, capBytes, limits.timeoutMs);
    if ('reason' in got) {
      if (got.reason === 'too_big' && capBytes < limits.maxFileBytes) skip(f, 'total_cap', { limitBytes: limits.maxTotalBytes });
      else skip(f, got.reason, got.reason === 'too_big' ? { limitBytes: limits.maxFileBytes } : {});
      continue;
    }
    downloadedBytes += got.bytes.byteLength;
    const text = kind === 'pdf' ? await pdfText(got.bytes) : decodeText(got.bytes);
    if (text === undefined) {
      skip(f, kind === 'pdf' ? 'unreadable_pdf' : 'binary');
      continue;
    }
    if (!addPart(out, { id: shared.id, name: fileName(f) }, text, limits)) skip(f, 'total_cap');
  }
  return out;
}
