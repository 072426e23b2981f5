/**
 * Files as context, the pure part: what can be read, bytes to text, caps,
 * labels, and the line that tells a person what was read and skipped.
 */
import { describe, expect, it } from 'vitest';
import {
  addPart,
  classifyFile,
  DEFAULT_FILE_LIMITS,
  decodeText,
  isLoginPage,
  labelFilePart,
  needsFileInfo,
  pdfText,
  type SharedFiles,
} from '../../src/conversation/file-context.ts';
import { filesNote } from '../../src/errors.ts';
import { minimalPdf } from '../helpers/pdf.ts';

/** Read and skipped entries carry Slack's file id, which these comparisons leave out. */
const withoutIds = <T extends { id?: string }>(xs: T[]) => xs.map(({ id: _id, ...rest }) => rest);

const bytes = (s: string) => new TextEncoder().encode(s);

describe('classifyFile', () => {
  it.each([
    [{ mimetype: 'text/plain', filetype: 'text' }, 'text'],
    [{ mimetype: 'application/octet-stream', filetype: 'log' }, 'text'],
    [{ mimetype: 'text/csv' }, 'text'],
    [{ mimetype: 'application/json' }, 'text'],
    [{ mimetype: 'application/vnd.api+json' }, 'text'],
    [{ mimetype: 'text/x-python', filetype: 'python' }, 'text'],
    [{ mimetype: '', filetype: 'markdown' }, 'text'],
    [{ mode: 'snippet', mimetype: 'application/octet-stream' }, 'text'],
    [{ mimetype: 'application/pdf' }, 'pdf'],
    [{ mimetype: 'image/png' }, 'image'],
    [{ mimetype: 'image/svg+xml' }, 'text'],
    [{ mimetype: 'application/zip' }, 'binary'],
    [{ mimetype: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', filetype: 'docx' }, 'binary'],
    [{ mimetype: 'video/mp4' }, 'binary'],
    [{ mimetype: 'application/octet-stream', filetype: 'binary' }, 'unknown'],
  ])('%o is %s', (f, kind) => {
    expect(classifyFile({ id: 'F1', ...f })).toBe(kind);
  });

  it('a Slack Connect stub needs files.info; a full file does not', () => {
    expect(needsFileInfo({ id: 'F1', mode: 'file_access', file_access: 'check_file_info' })).toBe(true);
    expect(needsFileInfo({ id: 'F1', name: 'a.txt', url_private_download: 'https://files.slack.com/x', file_access: 'visible' })).toBe(false);
  });
});

describe('decodeText', () => {
  it('reads UTF-8, dropping a byte order mark', () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('héllo ✓')]))).toBe('héllo ✓');
  });
  it('a NUL byte means binary', () => {
    expect(decodeText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x41]))).toBeUndefined();
  });
  it('a few bad bytes are a Latin-1 name in a log; mostly bad bytes are not text', () => {
    expect(decodeText(new Uint8Array([...bytes('user: Jos'), 0xe9, ...bytes(' logged in at 10:00 from the lab network')]))).toContain('logged in');
    expect(decodeText(new Uint8Array(Array.from({ length: 200 }, (_, i) => 0x80 + (i % 60))))).toBeUndefined();
  });
});

describe('isLoginPage', () => {
  const log = { id: 'F1', name: 'a.log', mimetype: 'text/plain' };
  it('HTML where a text file should be is the sign-in page, by content type or by its first bytes', () => {
    expect(isLoginPage('text/html; charset=utf-8', bytes('hello'), log, false)).toBe(true);
    expect(isLoginPage('text/plain', bytes('  <!DOCTYPE html><html>'), log, false)).toBe(true);
    expect(isLoginPage('text/plain', bytes('plain log line'), log, false)).toBe(false);
  });
  it('a file that is HTML is content on its own host, but not after a redirect to another', () => {
    const page = { id: 'F2', name: 'report.html', mimetype: 'text/html', filetype: 'html' };
    expect(isLoginPage('text/html', bytes('<html>report</html>'), page, false)).toBe(false);
    expect(isLoginPage('text/html', bytes('<html>sign in</html>'), page, true)).toBe(true);
  });
});

describe('pdfText', () => {
  it('reads the text of a PDF, from memory', async () => {
    const pdf = minimalPdf(['Hello PDF']);
    expect(pdf.byteLength).toBeLessThan(1000);
    expect(await pdfText(pdf)).toBe('Hello PDF');
  });
  it('labels pages when there are several', async () => {
    expect(await pdfText(minimalPdf(['First (page)', 'Second']))).toBe('[page 1]\nFirst (page)\n\n[page 2]\nSecond');
  });
  it('bytes that are not a PDF give no text rather than an error', async () => {
    expect(await pdfText(bytes('<!DOCTYPE html><html>sign in</html>'))).toBeUndefined();
  });
});

describe('addPart and labels', () => {
  const empty = (): SharedFiles => ({ parts: [], read: [], skipped: [] });
  it('keeps a file within the per-file and total caps, saying how much went in', () => {
    const limits = { ...DEFAULT_FILE_LIMITS, maxFileChars: 10, maxTotalChars: 15 };
    const files = empty();
    expect(addPart(files, { id: 'Fa', name: 'a.txt' }, '0123456789abc', limits)).toBe(true);
    expect(addPart(files, { id: 'Fb', name: 'b.txt' }, 'xyz', limits)).toBe(true);
    expect(addPart(files, { id: 'Fc', name: 'c.txt' }, '0123456789', limits)).toBe(true);
    expect(addPart(files, { id: 'Fd', name: 'd.txt' }, 'more', limits)).toBe(false);
    expect(files.parts).toEqual([
      { id: 'Fa', name: 'a.txt', text: '0123456789' },
      { id: 'Fb', name: 'b.txt', text: 'xyz' },
      { id: 'Fc', name: 'c.txt', text: '01' },
    ]);
    expect(withoutIds(files.read)).toEqual([{ name: 'a.txt', truncated: true, keptChars: 10 }, { name: 'b.txt' }, { name: 'c.txt', truncated: true, keptChars: 2 }]);
  });

  it('labels each file with its name, fenced so that its own backticks cannot end the fence', () => {
    const text = 'code:\n````\nx\n````';
    const labelled = labelFilePart({ name: 'notes\n.md', text });
    expect(labelled).toBe(`File "notes .md" (shared in this conversation):\n\`\`\`\`\`\n${text}\n\`\`\`\`\``);
  });
});

describe('filesNote', () => {
  it('names what was read and what was skipped, and why', () => {
    expect(
      filesNote(
        [{ name: 'a.log' }, { name: 'paper.pdf', truncated: true, keptChars: 100_000 }],
        [
          { name: 'image.png', reason: 'image' },
          { name: 'big.csv', reason: 'too_big', limitBytes: 2 * 1024 * 1024 },
          { name: 'more.txt', reason: 'too_many', limitFiles: 10 },
          { name: 'x.bin', reason: 'binary' },
        ],
      ),
    ).toBe(
      ':paperclip: Read: a.log, paper.pdf (the first 100,000 characters). Skipped: image.png (images are not read by this model), big.csv (over 2 MB), more.txt (I read at most 10 files per question), x.bin (not a text file or PDF).',
    );
  });
  it('says nothing when no file was shared, and only the half that applies', () => {
    expect(filesNote([], [])).toBeUndefined();
    expect(filesNote([{ name: 'a.txt' }], [])).toBe(':paperclip: Read: a.txt.');
    expect(filesNote([], [{ name: 'deck.key', reason: 'login_page' }])).toBe(':paperclip: Skipped: deck.key (Slack sent a sign-in page instead of the file).');
  });
  it('a file name cannot ping or broadcast', () => {
    const note = filesNote([{ name: '<!channel> <@U123>.txt' }], []) ?? '';
    expect(note).not.toMatch(/<!channel>|<@U123>/);
  });
});
