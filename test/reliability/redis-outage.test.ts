/**
 * Nothing accepted is lost: an event that arrives while Redis is down is not
 * acknowledged (so Slack delivers it again), the bot recovers by itself when
 * Redis returns, and a Redis restart in the middle of traffic (append-only
 * persistence) loses no queued question and doubles none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
let redis: TestRedis | undefined;
afterEach(async () => {
  await h?.stop();
  await redis?.cleanup();
  h = undefined;
  redis = undefined;
});

describe('Redis outages', () => {
  it('HTTP mode: an event during an outage gets a 500, and its redelivery is answered once', async () => {
    redis = await startTestRedis();
    h = await startHarness({ mode: 'http', redisUrl: redis.url });
    const m = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: `<@${BOT_USER_ID}> during the outage` });
    const event = h.slack.eventFor(m, 'app_mention');
    await redis.stop();
    expect((await h.deliver(event)).status).toBe(500);
    await redis.start();
    await waitFor(async () => (await h?.deliver(event, { retry: 1 }))?.status === 200, 'an acknowledged redelivery', 15_000);
    const [answer] = await h.reply(m, { timeoutMs: 20_000 });
    expect(answer?.text).toBe('You said: Ada: during the outage');
    expect(h.slack.botReplies(DEFAULT_CHANNEL, m.ts)).toHaveLength(1);
  });

  it('Socket Mode: an event during an outage is not acknowledged; its redelivery is answered once', async () => {
    redis = await startTestRedis();
    h = await startHarness({ mode: 'socket', redisUrl: redis.url });
    const m = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: DEFAULT_USER, text: `<@${BOT_USER_ID}> socket outage` });
    const event = h.slack.eventFor(m, 'app_mention');
    await redis.stop();
    await expect(h.slack.sendSocketEvent(event, { timeoutMs: 2500 })).rejects.toThrow(/no ack/);
    await redis.start();
    const harness = h;
    await waitFor(
      () =>
        harness.slack.sendSocketEvent(event, { retryAttempt: 1, timeoutMs: 2500 }).then(
          () => true,
          () => false,
        ),
      'an acknowledged redelivery',
      20_000,
    );
    const [answer] = await h.reply(m, { timeoutMs: 20_000 });
    expect(answer?.text).toBe('You said: Ada: socket outage');
    expect(h.slack.botReplies(DEFAULT_CHANNEL, m.ts)).toHaveLength(1);
  });

  it('a Redis restart mid-traffic loses no queued question and answers each once', async () => {
    redis = await startTestRedis();
    h = await startHarness({
      mode: 'socket',
      redisUrl: redis.url,
      gateway: { chunkDelayMs: 20 },
      env: { WORKER_CONCURRENCY: '4', WORKER_LOCK_SECONDS: '5' },
    });
    const questions: FakeMessage[] = [];
    for (let i = 0; i < 20; i++) questions.push(await h.mention({ text: `<@${BOT_USER_ID}> question number ${i}` }));
    await waitFor(() => (h?.gateway.chatRequests.length ?? 0) >= 2, 'some answers under way');
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    for (const q of questions) {
      const replies = await h.reply(q, { timeoutMs: 60_000 });
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toBe(`You said: Ada: ${q.text.split('> ')[1]}`);
    }
  }, 120_000);
});
