/**
 * Worker death and shutdown, with real processes: a worker killed (SIGKILL)
 * mid-answer has its job taken over, and the person sees one complete answer
 * in the same message; SIGTERM lets answers in flight finish and exits 0, or,
 * past the grace period, exits anyway and leaves the answer to another worker.
 */
import { describe, expect, it } from 'vitest';
import { BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import { botEnv, botProcesses, started } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const bots = botProcesses();

const LONG_ANSWER = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

async function setup(extra: Record<string, string> = {}, pace: { chunkDelayMs: number; randomSplits?: boolean } = { chunkDelayMs: 3 }) {
  const { slack, gateway } = await bots.fakes({ ...pace, reply: () => LONG_ANSWER });
  // Edited answers unless a test asks otherwise: what is shown is one message that a worker taking over edits on.
  const env = botEnv(slack, gateway, { WORKER_LOCK_SECONDS: '2', METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.1', SLACK_STREAMING: 'edit', ...extra });
  return { env, slack, gateway };
}

/**
 * A listener and a worker; a long question; once `partShown` finds part of the answer in the thread, a second
 * worker starts and the first is killed (SIGKILL). Returns the question and the message part of it was in.
 */
async function killWorkerMidAnswer({ env, slack: s, gateway }: Awaited<ReturnType<typeof setup>>, partShown: (m: FakeMessage) => boolean) {
  const listener = bots.run(['start', '--role', 'listener'], env);
  const first = bots.run(['start', '--role', 'worker'], env);
  await started(listener);
  await started(first);
  await s.waitForSocket();
  // The first worker's stream stops after a few words and waits, so it is still mid-answer however long the
  // second worker takes to start; the takeover's request streams the whole answer.
  gateway.injectChatFault({ kind: 'stall', afterChunks: 5 });
  const q = s.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> tell me a long story` });
  await s.sendSocketEvent(s.eventFor(q, 'app_mention'));
  const part = await waitFor(() => s.botReplies('C0CHAN', q.ts).find(partShown), 'part of the answer', 15_000);
  const second = bots.run(['start', '--role', 'worker'], env);
  await started(second);
  first.child.kill('SIGKILL');
  await first.exit;
  return { q, part };
}

describe('worker processes', () => {
  it('a worker killed mid-answer: another takes over, and there is one complete answer in the same message', async () => {
    const fleet = await setup();
    const { slack: s, gateway } = fleet;
    const { q, part: placeholder } = await killWorkerMidAnswer(fleet, (m) => m.text.startsWith('word0'));

    const done = await waitFor(
      () => s.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer'),
      'the complete answer',
      30_000,
    );
    expect(done.ts).toBe(placeholder.ts);
    expect(done.text).toBe(LONG_ANSWER);
    expect(s.botReplies('C0CHAN', q.ts)).toHaveLength(1);
    expect(gateway.chatRequests).toHaveLength(2);
  }, 60_000);

  it('a worker killed while its answer streams natively: another finishes it, and the whole answer is shown once', async () => {
    const fleet = await setup({ SLACK_STREAMING: 'native' });
    const { slack: s, gateway } = fleet;
    const { q } = await killWorkerMidAnswer(fleet, (m) => m.streaming === true && m.text.startsWith('word0'));

    await waitFor(
      () => s.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer' && !m.streaming),
      'the complete answer',
      30_000,
    );
    const shown = s.botReplies('C0CHAN', q.ts).filter((m) => !m.deleted && m.text.trim() !== '');
    expect(shown.map((m) => m.text).join('')).toBe(LONG_ANSWER);
    expect(gateway.chatRequests).toHaveLength(2);
  }, 60_000);

  it('SIGTERM lets the answer in flight finish, then exits 0', async () => {
    const { env, slack: s } = await setup({ SHUTDOWN_GRACE_SECONDS: '20' });
    const bot = bots.run(['start'], env);
    await started(bot);
    await s.waitForSocket();
    const q = s.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> finish this please` });
    await s.sendSocketEvent(s.eventFor(q, 'app_mention'));
    await waitFor(() => s.botReplies('C0CHAN', q.ts).find((m) => m.text.startsWith('word0')), 'part of the answer', 15_000);
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toBe(0);
    const [answer] = s.botReplies('C0CHAN', q.ts);
    expect(answer?.text).toBe(LONG_ANSWER);
    expect(answer?.metadata?.event_type).toBe('metis_answer');
  }, 60_000);

  it('SIGTERM with an answer longer than the grace period: exits at the deadline, and another worker finishes the answer', async () => {
    // Each word 100 ms apart: a 6 s answer against a 1 s grace period.
    const { env, slack: s } = await setup({ SHUTDOWN_GRACE_SECONDS: '1' }, { chunkDelayMs: 100, randomSplits: false });
    const listener = bots.run(['start', '--role', 'listener'], env);
    const first = bots.run(['start', '--role', 'worker'], env);
    await started(listener);
    await started(first);
    await s.waitForSocket();
    const q = s.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> a slow one` });
    await s.sendSocketEvent(s.eventFor(q, 'app_mention'));
    await waitFor(() => s.botReplies('C0CHAN', q.ts).find((m) => m.text.startsWith('word0')), 'part of the answer', 15_000);
    const stopping = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5000);
    bots.run(['start', '--role', 'worker'], env);
    const done = await waitFor(() => s.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer'), 'the answer, finished by the other worker', 40_000);
    expect(done.text).toBe(LONG_ANSWER);
    expect(s.botReplies('C0CHAN', q.ts)).toHaveLength(1);
  }, 90_000);
});
