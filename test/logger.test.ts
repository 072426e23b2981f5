import { describe, expect, it } from 'vitest';
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
