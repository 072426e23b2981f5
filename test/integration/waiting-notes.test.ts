/**
 * A parked question wakes often (every 500 ms while its asker's earlier
 * questions run, every poll while its model is not Live), but its note in
 * the thread is edited only when what it says changes: Slack allows some 50
 * chat.update calls a minute per workspace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiCall, BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The chat.update calls on the bot's first message in the thread of `q` whose text contains `words`. */
const editsSaying = (harness: Harness, q: FakeMessage, words: string): ApiCall[] => {
  const note = harness.slack.botReplies(DEFAULT_CHANNEL, q.ts)[0];
  return harness.slack.calls.filter((c) => c.method === 'chat.update' && c.params.ts === note?.ts && JSON.stringify(c.params.blocks ?? '').includes(words));
};

const statusFetches = (harness: Harness) => harness.gateway.requests.filter((r) => r.path.endsWith('/status')).length;

describe('waiting notes', () => {
  it('a question waiting for its asker\'s earlier one wakes many times but its note is edited once', async () => {
    h = await startHarness({
      mode: 'socket',
      gateway: { randomSplits: false, chunkDelayMs: 100, reply: () => Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ') },
      env: { METIS_USER_CONCURRENCY: '1', METIS_GATEWAY_REQUESTS_PER_SECOND: '0' },
    });
    const harness = h;
    const first = await harness.mention({ text: `<@${BOT_USER_ID}> a long one` });
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the first question to stream');
    const second = await harness.mention({ text: `<@${BOT_USER_ID}> the next one` });
    // The barrier: the second question's answer (it ran only after the first had streamed for about 3 s).
    const replies = await harness.reply(second, { timeoutMs: 30_000 });
    expect(replies[0]?.text).toContain('w29');
    const firstStream = harness.gateway.chatRequests[0];
    expect((firstStream?.finishedAt ?? 0) - (firstStream?.at ?? 0)).toBeGreaterThanOrEqual(2500); // ≥ 4 wakes 500 ms apart
    expect(harness.gateway.chatRequests[1]?.at).toBeGreaterThanOrEqual(firstStream?.finishedAt ?? Number.POSITIVE_INFINITY);
    expect(editsSaying(harness, second, 'earlier questions are being answered first')).toHaveLength(1);
    await harness.reply(first);
  }, 60_000);

  it('waiting notes take their edits from the fleet\'s edit budget: with none left, the older note stays', async () => {
    h = await startHarness({
      mode: 'socket',
      gateway: { randomSplits: false, chunkDelayMs: 100, reply: () => Array.from({ length: 10 }, (_, i) => `w${i}`).join(' ') },
      // One edit a minute for the whole fleet: the first answer's streaming edit takes it.
      env: { METIS_USER_CONCURRENCY: '1', METIS_GATEWAY_REQUESTS_PER_SECOND: '0', METIS_SLACK_EDITS_PER_MINUTE: '1' },
    });
    const harness = h;
    const first = await harness.mention({ text: `<@${BOT_USER_ID}> a long one` });
    await waitFor(() => harness.gateway.chatRequests.length === 1, 'the first question to stream');
    const waiting: FakeMessage[] = [];
    for (let i = 0; i < 4; i++) waiting.push(await harness.mention({ text: `<@${BOT_USER_ID}> waiting ${i}` }));
    // The barrier: every answer (each of the waiting questions woke several times before its turn).
    await harness.reply(first);
    for (const q of waiting) expect((await harness.reply(q, { timeoutMs: 30_000 }))[0]?.text).toContain('w9');
    const noteEdits = waiting.flatMap((q) => editsSaying(harness, q, 'earlier questions are being answered first'));
    expect(noteEdits.length).toBeLessThanOrEqual(1);
  }, 60_000);

  it('a note waiting for a cold start is edited once per status, however many polls it sees', async () => {
    h = await startHarness({ mode: 'socket', env: { METIS_MODEL_STATUS_TTL_SECONDS: '1', METIS_COLD_START_POLL_SECONDS: '1' } });
    const harness = h;
    harness.gateway.setStatus('DeepSeek-R1', 'Queued');
    const q = await harness.mention({ text: `<@${BOT_USER_ID}> -m deepseek think hard` });
    await waitFor(() => editsSaying(harness, q, 'is Queued on Metis').length > 0, 'the Queued note');
    // Barriers: the status fetched again three times (each poll of the waiting question reads it).
    let seen = statusFetches(harness);
    await waitFor(() => statusFetches(harness) >= seen + 3, 'three more polls', 15_000);
    harness.gateway.setStatus('DeepSeek-R1', 'Starting');
    await waitFor(() => editsSaying(harness, q, 'is Starting on Metis').length > 0, 'the Starting note');
    seen = statusFetches(harness);
    await waitFor(() => statusFetches(harness) >= seen + 3, 'three more polls', 15_000);
    harness.gateway.setStatus('DeepSeek-R1', 'Live');
    const replies = await harness.reply(q, { timeoutMs: 15_000 });
    expect(replies[0]?.text).toBe('You said: Ada: think hard');
    expect(editsSaying(harness, q, 'is Queued on Metis')).toHaveLength(1);
    expect(editsSaying(harness, q, 'is Starting on Metis')).toHaveLength(1);
  }, 60_000);
});
