/**
 * `--role all` as the CLI runs it: Slack's events on the main thread, answers
 * in a thread of their own. As a new user would see it, the bot answers; the
 * operator's endpoints speak for both threads; a stop drains the answer
 * thread and leaves nothing running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

describe('the answer thread', () => {
  for (const mode of ['socket', 'http'] as const) {
    it(`answers from its own thread (${mode} mode); /readyz and /metrics cover it`, async () => {
      h = await startHarness({ mode, answerThread: true });
      const q = await h.mention({ text: `<@${BOT_USER_ID}> hello from the main thread` });
      const [answer] = await h.reply(q, { timeoutMs: 20_000 });
      expect(answer?.text).toBe('You said: Ada: hello from the main thread');
      // The main thread's logger saw no answer: the thread answered.
      expect(h.logs.some((l) => l.msg === 'request queued')).toBe(true);
      expect(h.logs.some((l) => l.msg === 'answered')).toBe(false);

      const ready = await get(h.service.port, '/readyz');
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.text).checks).toMatchObject({ workers: 'ok', metis_access: 'ok' });
      const metrics = await get(h.service.port, '/metrics');
      // Counted in the answer thread, shown by the main thread's scrape; process-wide numbers once.
      expect(metrics.text).toMatch(/^metis_questions_total\{outcome="answered"\} 1$/m);
      expect(metrics.text.match(/^process_cpu_seconds_total /gm)).toHaveLength(1);
    });
  }

  it('stops with the service: intake first, then the answers drain and the thread ends', async () => {
    h = await startHarness({ mode: 'socket', answerThread: true });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> one more` });
    await h.reply(q, { timeoutMs: 20_000 });
    const stopped = h.stop();
    h = undefined;
    await expect(stopped).resolves.toBeUndefined();
  });
});
