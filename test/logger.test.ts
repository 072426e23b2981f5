import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { prettyLine } from '../src/logger.ts';
import { capturedLogger } from './helpers/captured-logger.ts';

describe('logger', () => {
  it('redacts secrets wherever they appear in a log line', () => {
    const { logger, lines } = capturedLogger('info');
    logger.info(
      {
        token: 'xoxb-secret-1',
        accessToken: 'Ag-secret-2',
        headers: { authorization: 'Bearer secret-3' },
        request: { client_secret: 'secret-4', refresh_token: 'secret-5' },
        config: { slack: { botToken: 'xoxb-secret-6', signingSecret: 'secret-7' } },
      },
      'a line',
    );
    const out = lines.join('');
    for (const s of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5', 'secret-6', 'secret-7']) expect(out).not.toContain(s);
    expect(out).toContain('[redacted]');
  });
});

describe('logger lines', () => {
  it('name the host in every line, child loggers too (every worker in a container is pid 1)', () => {
    const { logger, entries } = capturedLogger('info');
    logger.info('one');
    logger.child({ requestId: 'r1' }).warn('two');
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(e.hostname).toBe(hostname());
  });

  it('read as one line per entry on a terminal, with the stack of an error under it', () => {
    const { logger, lines } = capturedLogger('info');
    logger.error({ requestId: 'r1', err: new Error('boom'), n: 3 }, 'it broke');
    const shown = prettyLine(lines[0] as string);
    expect(shown).toMatch(/^\d\d:\d\d:\d\d\.\d\d\d ERROR it broke requestId=r1 err=\{"type":"Error","message":"boom"\}\nError: boom\n\s+at /);
    expect(shown).toContain(' n=3');
    expect(shown).not.toContain('hostname');
    expect(prettyLine('not json')).toBe('not json');
  });

  it('log an uncaught error through pino, with its stack, before the process exits non-zero', async () => {
    const script = [
      "import { createLogger, exitOnUncaught } from './src/logger.ts';",
      "exitOnUncaught(createLogger('info'));",
      "setTimeout(() => { throw new Error('escaped the handlers'); }, 10);",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    const line = JSON.parse(out.trim().split('\n').pop() as string) as { level: number; msg: string; hostname: string; err: { message: string; stack: string } };
    expect(line).toMatchObject({ level: 60, msg: 'uncaught exception; exiting', hostname: hostname(), err: { message: 'escaped the handlers' } });
    expect(line.err.stack).toMatch(/at /);
    expect(err).not.toContain('escaped the handlers'); // not Node's own dump: the operator's log has it once
  });
});

describe('logged errors', () => {
  it('keep their stack and cause chain, and hide secrets however deep the error carries them', () => {
    const { logger, lines, entries } = capturedLogger('info');
    const cause = new Error('socket hang up');
    const err = Object.assign(new Error('request failed', { cause }), {
      code: 'slack_webapi_request_error',
      original: { config: { headers: { Authorization: 'Bearer xoxb-deep-secret-1' } }, response: { data: { access_token: 'deep-secret-2' } } },
      token: 'deep-secret-3',
      command: { name: 'auth', args: ['default', 'deep-secret-4'] },
    });
    logger.warn({ err }, 'could not post');
    const out = lines.join('');
    for (const s of ['deep-secret-1', 'deep-secret-2', 'deep-secret-3', 'deep-secret-4']) expect(out).not.toContain(s);
    const logged = entries[0]?.err as { type: string; message: string; stack: string; code: string };
    expect(logged).toMatchObject({ type: 'Error', code: 'slack_webapi_request_error' });
    expect(logged.message).toContain('socket hang up');
    expect(logged.stack).toMatch(/caused by: Error: socket hang up/);
    // the error the code still holds is untouched
    expect(err.original.config.headers.Authorization).toBe('Bearer xoxb-deep-secret-1');
  });
});
