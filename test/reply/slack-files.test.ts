/**
 * Files shared with a question, read from a fake Slack that serves them as
 * Slack does: the bot token must reach the download, or Slack answers its
 * sign-in page with 200; redirects on the same host and to another host;
 * Slack Connect stubs completed by files.info; sizes, stalls and binaries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FILE_LIMITS, type FileLimits, type SlackFile } from '../../src/conversation/file-context.ts';
import { createPooledFetch, type PooledFetch } from '../../src/http/fetch.ts';
import { readSharedFiles } from '../../src/reply/slack-files.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeFileSpec, type FakeSlack, MANIFEST_SCOPES, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { minimalPdf } from '../helpers/pdf.ts';

/** Read and skipped entries carry Slack's file id, which these comparisons leave out. */
const withoutIds = <T extends { id?: string }>(xs: T[]) => xs.map(({ id: _id, ...rest }) => rest);

let slack: FakeSlack;
let pool: PooledFetch;
let captured: ReturnType<typeof capturedLogger>;
beforeEach(async () => {
  slack = await startFakeSlack();
  pool = createPooledFetch();
  captured = capturedLogger('info');
});
afterEach(async () => {
  await pool.close(0);
  await slack.close();
});

const read = (files: unknown[], limits: Partial<FileLimits> = {}, token = BOT_TOKEN) =>
  readSharedFiles(
    { client: createWebClient(token, slack.apiUrl, captured.logger), fetch: pool.fetch, token, log: captured.logger },
    files as SlackFile[],
    { ...DEFAULT_FILE_LIMITS, ...limits },
  );
const share = (spec: FakeFileSpec) => slack.addFile(spec).shared;
const textFile = (name: string, content: string, extra: Partial<FakeFileSpec> = {}) => share({ name, mimetype: 'text/plain', filetype: 'text', content, ...extra });

describe('readSharedFiles', () => {
  it('reads text files and PDFs with the bot token, each under its name', async () => {
    const got = await read([
      textFile('build.log', 'ERROR: disk full\n'),
      share({ name: 'paper.pdf', mimetype: 'application/pdf', filetype: 'pdf', content: minimalPdf(['Hello PDF']) }),
      share({ name: 'data.csv', mimetype: 'text/csv', filetype: 'csv', content: 'a,b\n1,2\n' }),
    ]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([
      { name: 'build.log', text: 'ERROR: disk full\n' },
      { name: 'paper.pdf', text: 'Hello PDF' },
      { name: 'data.csv', text: 'a,b\n1,2\n' },
    ]);
    expect(withoutIds(got.skipped)).toEqual([]);
    expect(slack.fileRequests.map((r) => r.authorization)).toEqual([`Bearer ${BOT_TOKEN}`, `Bearer ${BOT_TOKEN}`, `Bearer ${BOT_TOKEN}`]);
  });

  it('skips images and declared binaries without downloading them; finds a binary by its bytes', async () => {
    const got = await read([
      share({ name: 'plot.png', mimetype: 'image/png', content: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) }),
      share({ name: 'src.zip', mimetype: 'application/zip', content: new Uint8Array([0x50, 0x4b, 3, 4]) }),
      share({ name: 'core.dump', mimetype: 'application/octet-stream', filetype: 'binary', content: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]) }),
    ]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([]);
    expect(withoutIds(got.skipped)).toEqual([
      { name: 'plot.png', reason: 'image' },
      { name: 'src.zip', reason: 'binary' },
      { name: 'core.dump', reason: 'binary' },
    ]);
    expect(slack.fileRequests.map((r) => r.path)).toEqual([expect.stringContaining('core.dump')]);
  });

  it('a file Slack says is too big is not downloaded; one that turns out too big is cut off, not buffered whole', async () => {
    const got = await read(
      [
        textFile('big.csv', 'x'.repeat(3000)),
        // Slack reports a small size, but the body never ends: only the cap stops it.
        share({ name: 'endless.log', mimetype: 'text/plain', content: 'endless', size: 100 }),
        textFile('after.txt', 'still read'),
      ],
      { maxFileBytes: 2048 },
    );
    expect(withoutIds(got.skipped)).toEqual([
      { name: 'big.csv', reason: 'too_big', limitBytes: 2048 },
      { name: 'endless.log', reason: 'too_big', limitBytes: 2048 },
    ]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'after.txt', text: 'still read' }]);
    expect(slack.fileRequests.some((r) => r.path.includes('big.csv'))).toBe(false);
    const [id] = [...slack.endlessBytesSent.keys()];
    // Socket buffers hold a few MB at most; reading it all would never end.
    expect(slack.endlessBytesSent.get(id as string)).toBeLessThan(64 * 1024 * 1024);
  });

  it('stops at the total: bytes downloaded, characters kept, and files per question', async () => {
    const bySize = await read([textFile('a.txt', 'a'.repeat(600)), textFile('b.txt', 'b'.repeat(600))], { maxTotalBytes: 1000 });
    expect(bySize.parts.map((p) => p.name)).toEqual(['a.txt']);
    expect(withoutIds(bySize.skipped)).toEqual([{ name: 'b.txt', reason: 'total_cap', limitBytes: 1000 }]);

    const byChars = await read([textFile('c.txt', 'c'.repeat(50)), textFile('d.txt', 'd'.repeat(50)), textFile('e.txt', 'e')], { maxTotalChars: 80 });
    expect(withoutIds(byChars.read)).toEqual([{ name: 'c.txt' }, { name: 'd.txt', truncated: true, keptChars: 30 }]);
    expect(withoutIds(byChars.skipped)).toEqual([{ name: 'e.txt', reason: 'total_cap' }]);

    const byCount = await read([textFile('1.txt', '1'), textFile('2.txt', '2'), textFile('3.txt', '3')], { maxFiles: 2 });
    expect(withoutIds(byCount.skipped)).toEqual([{ name: '3.txt', reason: 'too_many', limitFiles: 2 }]);
  });

  it('a file shared twice in a thread is read once', async () => {
    const f = textFile('notes.md', '# notes');
    const got = await read([f, f]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'notes.md', text: '# notes' }]);
    expect(slack.fileRequests).toHaveLength(1);
  });

  it('completes a Slack Connect stub with files.info, then reads it', async () => {
    const stub = textFile('shared.txt', 'from another org', { connect: true });
    expect(stub).toEqual(expect.objectContaining({ file_access: 'check_file_info' }));
    expect(stub).not.toHaveProperty('url_private_download');
    const got = await read([stub]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'shared.txt', text: 'from another org' }]);
    expect(slack.callsOf('files.info').map((c) => c.params.file)).toEqual([stub.id]);
  });

  it('a stub of a deleted file, or one the install may not read (no files:read), is skipped and logged', async () => {
    const gone = textFile('gone.txt', 'x', { connect: true });
    slack.deleteFile(gone.id as string);
    expect(withoutIds((await read([gone])).skipped)).toEqual([{ name: gone.id, reason: 'not_found' }]);

    slack.setGrantedScopes(MANIFEST_SCOPES.filter((s) => s !== 'files:read'));
    const stub = textFile('s.txt', 'x', { connect: true });
    expect(withoutIds((await read([stub])).skipped)).toEqual([{ name: stub.id, reason: 'no_access' }]);
    expect(captured.entries).toContainEqual(expect.objectContaining({ level: 40, error: 'missing_scope', file: stub.id }));
  });

  it('without a working token Slack answers its sign-in page with 200: that is an error, not the file', async () => {
    const got = await read([textFile('a.log', 'secret log')], {}, 'xoxb-wrong');
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([]);
    expect(withoutIds(got.skipped)).toEqual([{ name: 'a.log', reason: 'login_page' }]);
    expect(slack.fileRequests.map((r) => r.path)).toEqual([expect.stringContaining('/files-pri/'), '/']);
    expect(captured.entries).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('HTML page instead of the file') }));
    expect(captured.lines.join('\n')).not.toContain('xoxb-wrong');
  });

  it('follows a redirect on the same host with the token', async () => {
    const got = await read([textFile('r.txt', 'redirected', { redirect: 'same_host' })]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'r.txt', text: 'redirected' }]);
    expect(slack.fileRequests.map((r) => [r.path.split('/')[1], r.authorization])).toEqual([
      ['files-pri', `Bearer ${BOT_TOKEN}`],
      ['files-origin', `Bearer ${BOT_TOKEN}`],
    ]);
  });

  it('follows a redirect to another host without the token: a presigned URL works, and says so in the log', async () => {
    const got = await read([textFile('cdn.txt', 'from the CDN', { redirect: 'other_host_presigned' })]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'cdn.txt', text: 'from the CDN' }]);
    const cdn = slack.fileRequests.find((r) => r.path.startsWith('/cdn/'));
    expect(cdn?.host).toMatch(/^localhost:/);
    expect(cdn?.authorization).toBeUndefined();
    expect(captured.entries).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('without the bot token'), to: cdn?.host }));
  });

  it('another host that wants the token gets none: its sign-in page is a login_page skip, not content', async () => {
    const got = await read([textFile('x.txt', 'private', { redirect: 'other_host_needs_token' })]);
    expect(withoutIds(got.skipped)).toEqual([{ name: 'x.txt', reason: 'login_page' }]);
    expect(slack.fileRequests.filter((r) => r.host.startsWith('localhost')).every((r) => r.authorization === undefined)).toBe(true);
  });

  it('a file that is HTML is read as text on its own host', async () => {
    const got = await read([share({ name: 'report.html', mimetype: 'text/html', filetype: 'html', content: '<html><body>results</body></html>' })]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'report.html', text: '<html><body>results</body></html>' }]);
  });

  it('a download that stalls times out, and the next file is still read', async () => {
    const got = await read([share({ name: 'slow.log', mimetype: 'text/plain', content: 'stall' }), textFile('ok.txt', 'fine')], { timeoutMs: 300 });
    expect(withoutIds(got.skipped)).toEqual([{ name: 'slow.log', reason: 'timeout' }]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'ok.txt', text: 'fine' }]);
  });

  it('a file object with a broken download URL is one skipped file, not a thrown error', async () => {
    const got = await read([{ id: 'F9', name: 'x.txt', mimetype: 'text/plain', url_private_download: 'not a url' }, textFile('ok.txt', 'fine')]);
    expect(withoutIds(got.skipped)).toEqual([{ name: 'x.txt', reason: 'download_failed' }]);
    expect(got.parts.map(({ name, text }) => ({ name, text }))).toEqual([{ name: 'ok.txt', text: 'fine' }]);
  });

  it('a file stored outside Slack is named, not fetched', async () => {
    const got = await read([share({ name: 'Design doc', mimetype: 'application/vnd.google-apps.document', content: '', mode: 'external' })]);
    expect(withoutIds(got.skipped)).toEqual([{ name: 'Design doc', reason: 'external' }]);
    expect(slack.fileRequests).toEqual([]);
  });
});
