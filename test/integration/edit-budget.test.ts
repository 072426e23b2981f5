/**
 * Slack's edit budget (chat.update is Tier 3, per workspace) as a busy team
 * would meet it: many answers streaming at once share it, so the fleet's
 * edits stay near the budget instead of one per answer per interval; every
 * answer still ends complete, and its final edit is not held back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCall } from '../fakes/slack.ts';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';

const streamingEdits = (calls: ApiCall[]) =>
  calls.filter((c) => c.method === 'chat.update' && (c.params.metadata as { event_type?: string } | undefined)?.event_type === 'metis_pending');

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

/** A bot whose model sends `n` words 100 ms apart, with `perMinute` edits a minute for the fleet and 100 ms at least between edits. */
const startStreaming = (n: number, perMinute = 600) =>
  startHarness({
    mode: 'socket',
    gateway: { randomSplits: false, chunkDelayMs: 100, reply: () => words(n) },
    env: { METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.1', METIS_SLACK_EDITS_PER_MINUTE: String(perMinute) },
  });

describe('the fleet-wide Slack edit budget', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('ten answers streaming at once share 600 edits a minute instead of making 10 edits a second each', async () => {
    // Each answer streams for about 3 s. Ten people ask, so no per-person cap applies.
    h = await startStreaming(30);
    const questions = await Promise.all(Array.from({ length: 10 }, (_, i) => h.mention({ channel: `C0P${i}`, user: `U0P${i}`, text: `<@${BOT_USER_ID}> question ${i}` })));
    const started = Date.now();
    const replies = await Promise.all(questions.map((q) => h.reply(q, { timeoutMs: 20_000 })));
    const seconds = (Date.now() - started) / 1000;

    for (const [reply] of replies) expect(reply?.text).toBe(words(30));
    const edits = streamingEdits(h.slack.calls).length;
    // Unpaced, ten answers at one edit per 100 ms would make ~300 streaming edits in ~3 s. The budget is
    // 10 a second for the fleet; allow one extra edit per answer for the moment a stream starts.
    expect(edits).toBeLessThanOrEqual(Math.ceil(10 * seconds) + 10);
    expect(edits).toBeGreaterThan(0); // the answers still streamed
  });

  it('when the shared interval is longer than the answers take, the budget still goes to some of them', async () => {
    // Ten 3 s answers on 120 edits a minute: each may edit every 5 s, longer than it streams. Without
    // spreading, no answer would show progress; with each first edit at a random point, about half do.
    h = await startStreaming(30, 120);
    const questions = await Promise.all(Array.from({ length: 10 }, (_, i) => h.mention({ channel: `C0R${i}`, user: `U0R${i}`, text: `<@${BOT_USER_ID}> question ${i}` })));
    await Promise.all(questions.map((q) => h.reply(q, { timeoutMs: 20_000 })));
    const withText = streamingEdits(h.slack.calls).filter((c) => JSON.stringify(c.params.blocks ?? '').includes('w0'));
    expect(withText.length).toBeGreaterThanOrEqual(1);
    expect(withText.length).toBeLessThanOrEqual(10);
  });

  it('a lone answer streams at the minimum interval again once the others are done', async () => {
    h = await startStreaming(30);
    const crowd = await Promise.all(Array.from({ length: 8 }, (_, i) => h.mention({ channel: `C0Q${i}`, user: `U0Q${i}`, text: `<@${BOT_USER_ID}> crowd ${i}` })));
    await Promise.all(crowd.map((q) => h.reply(q, { timeoutMs: 20_000 })));
    const before = streamingEdits(h.slack.calls).length;
    const alone = await h.mention({ channel: 'C0ALONE', text: `<@${BOT_USER_ID}> just me` });
    await h.reply(alone, { timeoutMs: 10_000 });
    // ~3 s of streaming, alone: 600 a minute allows one edit per 100 ms, so well over a handful, even when the
    // crowd's final edits (counted, never held back) have overdrawn the budget by a second or so.
    expect(streamingEdits(h.slack.calls).length - before).toBeGreaterThanOrEqual(8);
  });
});
