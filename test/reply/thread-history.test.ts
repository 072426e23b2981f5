/**
 * Reading a thread costs Slack calls from a tight, workspace-wide tier and
 * memory in the worker: only the newest messages the model can be sent are read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchThread, findRequestMessages } from '../../src/reply/thread-history.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

const { logger } = capturedLogger('warn');
const CHANNEL = 'C0CHAN';

let slack: FakeSlack;
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await slack.close();
});

/** A thread of `replies` replies (each about 100 characters) under a root; returns the root and the last reply. */
function longThread(replies: number) {
  const root = slack.postAsUser({ channel: CHANNEL, user: 'U0HUMAN', text: 'root of a long thread' });
  let last = root;
  for (let i = 1; i <= replies; i++) {
    last = slack.postAsUser({ channel: CHANNEL, user: i % 2 ? 'U0ADA' : 'U0BOB', thread_ts: root.ts, text: `message ${i} ${'x'.repeat(90)}` });
  }
  return { root, last };
}

describe('fetchThread', () => {
  it('reads a 2,001-message thread in at most two pages, keeping the newest messages in order', async () => {
    const { root, last } = longThread(2000);
    const client = createWebClient(BOT_TOKEN, slack.apiUrl, logger);
    const budgetChars = 24_000;
    const history = await fetchThread(client, CHANNEL, root.ts, last.ts, budgetChars);
    expect(slack.callsOf('conversations.replies').length).toBeLessThanOrEqual(2);
    expect(history.at(-1)?.ts).toBe(last.ts);
    expect(history.at(-1)?.text).toContain('message 2000 ');
    // Enough to fill the budget, in order, with nothing missing between the oldest read and the trigger.
    expect(history.reduce((n, m) => n + m.text.length, 0)).toBeGreaterThanOrEqual(budgetChars);
    const numbers = history.map((m) => Number(/^message (\d+)/.exec(m.text)?.[1]));
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i));
  });

  it('reads only up to the message being answered, however much came after it', async () => {
    const { root } = longThread(10);
    const asked = slack.postAsUser({ channel: CHANNEL, user: 'U0HUMAN', thread_ts: root.ts, text: 'the question' });
    for (let i = 0; i < 500; i++) slack.postAsUser({ channel: CHANNEL, user: 'U0BOB', thread_ts: root.ts, text: `later ${i}` });
    const history = await fetchThread(createWebClient(BOT_TOKEN, slack.apiUrl, logger), CHANNEL, root.ts, asked.ts, 24_000);
    expect(history.map((m) => m.text)).toEqual(['root of a long thread', ...Array.from({ length: 10 }, (_, i) => `message ${i + 1} ${'x'.repeat(90)}`), 'the question']);
    expect(slack.callsOf('conversations.replies')).toHaveLength(1);
  });

  it('pages back further when the newest page is not enough for the budget', async () => {
    const { root, last } = longThread(1000);
    const history = await fetchThread(createWebClient(BOT_TOKEN, slack.apiUrl, logger), CHANNEL, root.ts, last.ts, 50_000);
    expect(slack.callsOf('conversations.replies')).toHaveLength(3);
    expect(history.reduce((n, m) => n + m.text.length, 0)).toBeGreaterThanOrEqual(50_000);
    expect(history.at(-1)?.ts).toBe(last.ts);
  });
});

describe('findRequestMessages', () => {
  it('finds a request\'s messages after its question at the end of a long thread', async () => {
    const { root, last } = longThread(600);
    const client = createWebClient(BOT_TOKEN, slack.apiUrl, logger);
    const posted = await client.chat.postMessage({
      channel: CHANNEL,
      thread_ts: root.ts,
      text: 'placeholder',
      metadata: { event_type: 'metis_pending', event_payload: { request_id: 'req-1' } },
    });
    expect(await findRequestMessages(client, CHANNEL, root.ts, 'req-1', last.ts)).toEqual([posted.ts]);
  });
});
