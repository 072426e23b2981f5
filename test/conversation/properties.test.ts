/**
 * Property tests: the stream parser (any split of any valid stream yields the
 * same text), the mention parser, and Slack-markup conversion.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequest } from '../../src/conversation/parse-request.ts';
import { slackToPlainText } from '../../src/conversation/slack-markup.ts';
import { MetisError } from '../../src/errors.ts';
import { GatewayClient } from '../../src/gateway/client.ts';

/** A server that sends the next test's body in exactly the given pieces (raw bytes). */
let pieces: Buffer[] = [];
let server: Server;
let baseUrl = '';
beforeAll(async () => {
  server = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const p of pieces) {
      res.write(p);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/resource_server`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function sse(deltas: string[]): string {
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return [chunk({ role: 'assistant', content: '' }, null), ...deltas.map((d) => chunk({ content: d }, null)), chunk({}, 'stop'), 'data: [DONE]\n\n'].join('');
}

/** The UTF-8 bytes of `text`, cut at the given points (so a cut may fall inside a character). */
function splitAt(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

describe('properties', () => {
  it('any split of a valid stream, even inside a multi-byte character, yields the same text', async () => {
    const client = new GatewayClient({ baseUrl, cluster: 'metis' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (deltas, cuts) => {
          pieces = splitAt(sse(deltas), cuts);
          let text = '';
          for await (const ev of client.streamChat({ token: 't', framework: 'api', model: 'm', messages: [], idleTimeoutMs: 5000 })) {
            if (ev.type === 'text') text += ev.text;
          }
          expect(text).toBe(deltas.join(''));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the mention parser reads -m and the question from any such message, and fails only with MetisError', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
    const question = fc.string({ minLength: 1, maxLength: 80 }).filter((s) => s.trim() !== '' && !/^\s*-/.test(s));
    fc.assert(
      fc.property(word, question, (model, q) => {
        expect(parseRequest(`<@U0BOT> -m ${model} ${q}`, 'U0BOT')).toEqual({ model, prompt: q.trim() });
        expect(parseRequest(`<@U0BOT> ${q}`, 'U0BOT')).toEqual({ prompt: stripMentions(q).trim() });
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (any) => {
        try {
          parseRequest(any, 'U0BOT');
        } catch (err) {
          expect(err).toBeInstanceOf(MetisError);
        }
      }),
    );
  });

  it('plain text that Slack escaped comes back exactly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        expect(slackToPlainText(escaped)).toBe(text);
      }),
    );
  });
});

function stripMentions(q: string): string {
  return q.replace(/<@U0BOT(?:\|[^>]*)?>/g, ' ');
}
