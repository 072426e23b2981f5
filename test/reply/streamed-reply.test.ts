/**
 * The streamed Reply against the fake Slack: Slack's own streaming message
 * in a channel thread (the asker as recipient) showing exactly what an
 * edited answer shows; streams Slack ends early or refuses; the fleet's
 * Tier-2 budget spent (edits instead), every budget spent (one post when
 * done); SLACK_STREAMING=edit; and 429s waited out with no text lost.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { METADATA } from '../../src/conversation/build-messages.ts';
import { EditPacer } from '../../src/reply/edit-pacer.ts';
import { ChannelPostPacer } from '../../src/reply/post-pacer.ts';
import type { Reply } from '../../src/reply/reply.ts';
import { type StreamingMode, streamedReplies } from '../../src/reply/streamed-reply.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack, TEAM_ID } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

const CHANNEL = 'C0CHAN';

let redis: Redis;
let slack: FakeSlack;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(() => slack.close());

interface Budgets {
  mode?: StreamingMode;
  clock?: ManualClock;
  maxChars?: number;
  editsPerMinute?: number;
  streamCallsPerMinute?: number;
}

/** A fleet (one worker's pacer) and its replies; appends and edits go only when a test flushes or finishes. */
function fleet(b: Budgets = {}) {
  const captured = capturedLogger('debug');
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const pacer = new EditPacer(
    redis,
    prefix,
    { editsPerMinute: b.editsPerMinute ?? 0, minIntervalMs: 60_000, streamCallsPerMinute: b.streamCallsPerMinute ?? 600_000, appendsPerMinute: 6000 },
    captured.logger,
    b.clock,
  );
  const replies = streamedReplies(createWebClient(BOT_TOKEN, slack.apiUrl, captured.logger), pacer, {
    mode: b.mode ?? 'auto',
    maxChars: b.maxChars ?? 4000,
    appendIntervalMs: 60_000,
    posts: new ChannelPostPacer(redis, prefix),
    ...(b.clock ? { clock: b.clock } : {}),
    streamClient: createWebClient(BOT_TOKEN, slack.apiUrl, captured.logger, undefined, { retries: 0 }),
  });
  const open = (threadTs: string): Reply =>
    replies({ channel: CHANNEL, threadTs, requestId: `Ev${threadTs}`, asker: { user: 'U0HUMAN', teamId: TEAM_ID }, logger: captured.logger });
  return { open, pacer, entries: captured.entries };
}

const question = () => slack.postAsUser({ channel: CHANNEL, user: 'U0HUMAN', text: 'a question' }).ts;
const shown = (threadTs: string) => slack.botReplies(CHANNEL, threadTs).map((m) => m.text);

/** Two questions, each with its answer begun in the fleet, the first first. */
async function twoBegun(f: ReturnType<typeof fleet>) {
  const first = question();
  const second = question();
  const a = f.open(first);
  const b = f.open(second);
  await a.begin('_Asking…_');
  await b.begin('_Asking…_');
  return { first, second, a, b };
}

/** What today's edited message shows for `answer`, in a thread of its own. */
async function editedLayout(answer: string, maxChars: number): Promise<string[]> {
  const threadTs = question();
  const reply = fleet({ mode: 'edit', maxChars }).open(threadTs);
  await reply.begin('_Asking…_');
  await reply.finish(answer);
  return shown(threadTs);
}

/** Streams `answer` in steps, flushing after each (every step's settled text is appended). */
async function streamInSteps(reply: Reply, answer: string, steps: number, between?: (step: number) => void): Promise<void> {
  for (let i = 1; i <= steps; i++) {
    reply.update(answer.slice(0, Math.floor((answer.length * i) / (steps + 1))));
    await reply.flush();
    between?.(i);
  }
  await reply.finish(answer);
}

/** A long answer: prose, a code block cut across messages, and things that must not act in Slack. */
const longAnswer = () =>
  `Hello <!channel> and @here, see <https://evil.example|the docs>.\n\n\`\`\`python\n${Array.from({ length: 60 }, (_, i) => `print("line ${i}")`).join('\n')}\n\`\`\`\n\nThat is all, <@U0OTHER>.`;

describe('the streamed Reply', () => {
  it('streams natively in a channel thread for the asker, and ends showing exactly what an edited answer shows', async () => {
    const answer = longAnswer();
    const expected = await editedLayout(answer, 400);
    expect(expected.length).toBeGreaterThanOrEqual(3);

    const threadTs = question();
    const reply = fleet({ maxChars: 400 }).open(threadTs);
    await reply.begin('_Asking…_');
    await streamInSteps(reply, answer, 8);

    const starts = slack.callsOf('chat.startStream');
    expect(starts.length).toBe(expected.length); // one stream per message of the layout
    for (const s of starts) expect(s.params).toMatchObject({ channel: CHANNEL, thread_ts: threadTs, recipient_user_id: 'U0HUMAN', recipient_team_id: TEAM_ID });
    expect(slack.callsOf('chat.appendStream').length).toBeGreaterThan(0);
    expect(slack.callsOf('chat.stopStream').length).toBe(expected.length);
    // The placeholder is gone; the streams read as the edited answer, message for message.
    expect(shown(threadTs)).toEqual(expected);
    const messages = slack.botReplies(CHANNEL, threadTs);
    expect(messages.every((m) => !m.streaming && m.metadata?.event_type === METADATA.answer)).toBe(true);
    expect(reply.messageTs).toEqual(messages.map((m) => m.ts));
    expect(shown(threadTs).join('')).not.toMatch(/<!channel>|<@U0OTHER>|(?<!\u2060)@here/);
  });

  it('shows the whole answer exactly once when Slack ends the stream mid-answer', async () => {
    const answer = longAnswer();
    const expected = await editedLayout(answer, 400);
    const threadTs = question();
    const reply = fleet({ maxChars: 400 }).open(threadTs);
    await reply.begin('_Asking…_');
    await streamInSteps(reply, answer, 8, (step) => {
      if (step === 3) for (const ts of reply.messageTs) slack.endStream(CHANNEL, ts);
    });
    expect(shown(threadTs)).toEqual(expected);
    expect(slack.callsOf('chat.update').length).toBeGreaterThan(0); // carried on by editing
  });

  it('carries on in a new message when a person deletes the streaming message', async () => {
    const answer = 'One two three four five six seven eight nine ten.';
    const threadTs = question();
    const reply = fleet().open(threadTs);
    await reply.begin('_Asking…_');
    await streamInSteps(reply, answer, 3, (step) => {
      if (step === 1) slack.deleteMessage(CHANNEL, reply.messageTs[0] as string);
    });
    expect(shown(threadTs)).toEqual([answer]);
  });

  it.each([{ error: 'streaming_mode_mismatch' }, { rateLimitedSeconds: 30 }])('edits the placeholder when Slack refuses the stream (%o)', async (fault) => {
    slack.failNext('chat.startStream', fault);
    const threadTs = question();
    const reply = fleet().open(threadTs);
    await reply.begin('_Asking…_');
    await streamInSteps(reply, 'A short answer that Slack would not stream.', 2);
    expect(shown(threadTs)).toEqual(['A short answer that Slack would not stream.']);
    expect(slack.callsOf('chat.startStream').length).toBe(1);
  });

  it('falls back to edits once the fleet has spent its Tier-2 budget', async () => {
    // Room for one stream's start and stop a minute.
    const f = fleet({ streamCallsPerMinute: 2 });
    const { first, second, a, b } = await twoBegun(f);
    a.update('First answer, ');
    b.update('Second answer, ');
    await a.finish('First answer, streamed.');
    await b.finish('Second answer, edited.');
    expect(slack.callsOf('chat.startStream').map((c) => c.params.thread_ts)).toEqual([first]);
    expect(shown(first)).toEqual(['First answer, streamed.']);
    expect(shown(second)).toEqual(['Second answer, edited.']);
    expect(slack.callsOf('chat.update').length).toBeGreaterThan(0);
  });

  it('past every budget posts no placeholder and the whole answer once when done', async () => {
    // One answer may hold an edited message (4 edits a minute); no native streams.
    const f = fleet({ editsPerMinute: 4, streamCallsPerMinute: 0 });
    const { first, second, a, b } = await twoBegun(f);
    expect(shown(first)).toEqual(['_Asking…_']);
    expect(shown(second)).toEqual([]);
    b.update('The second ');
    b.setStatus('_Thinking…_');
    await b.flush();
    expect(shown(second)).toEqual([]);
    const posts = slack.callsOf('chat.postMessage').length;
    await b.finish('The second answer, whole.');
    expect(shown(second)).toEqual(['The second answer, whole.']);
    expect(slack.callsOf('chat.postMessage').length).toBe(posts + 1);
    expect(slack.callsOf('chat.update').filter((c) => b.messageTs.includes(String(c.params.ts)))).toEqual([]);
    await a.finish('The first answer.');
    // Its edited message is finished: a new answer has room for a placeholder again.
    const third = question();
    await f.open(third).begin('_Asking…_');
    expect(shown(third)).toEqual(['_Asking…_']);
  });

  it('streams a degraded answer once the Tier-2 budget has room again', async () => {
    // One edited message allowed; 6 stream calls a minute: one stream now, the next 20 s later.
    const clock = new ManualClock();
    const f = fleet({ editsPerMinute: 4, streamCallsPerMinute: 6, clock });
    const { first, second, a, b } = await twoBegun(f);
    expect(shown(second)).toEqual([]);
    a.update('First answer streams ');
    b.update('Second answer waits ');
    await a.flush();
    await b.flush();
    expect(slack.callsOf('chat.startStream').map((c) => c.params.thread_ts)).toEqual([first]);
    clock.advance(20_000);
    b.update('Second answer waits, then streams ');
    await b.flush();
    expect(slack.callsOf('chat.startStream').map((c) => c.params.thread_ts)).toEqual([first, second]);
    await a.finish('First answer streams natively.');
    await b.finish('Second answer waits, then streams natively.');
    expect(shown(first)).toEqual(['First answer streams natively.']);
    expect(shown(second)).toEqual(['Second answer waits, then streams natively.']);
    expect(slack.callsOf('chat.postMessage').filter((c) => c.params.thread_ts === second)).toEqual([]);
  });

  it('keeps the partial text, stream stopped, with the failure after it; a degraded answer posts both', async () => {
    const threadTs = question();
    const reply = fleet().open(threadTs);
    await reply.begin('_Asking…_');
    reply.update('Half of an answer that');
    await reply.flush();
    await reply.fail('The model stopped answering.');
    expect(shown(threadTs)).toEqual(['Half of an answer that', 'The model stopped answering.']);
    expect(slack.botReplies(CHANNEL, threadTs).every((m) => !m.streaming)).toBe(true);

    const f = fleet({ editsPerMinute: 4, streamCallsPerMinute: 0 });
    await f.open(question()).begin('_Asking…_'); // takes the one edited message the budget allows
    const degraded = question();
    const b = f.open(degraded);
    await b.begin('_Asking…_');
    b.update('Another half');
    await b.fail('The model stopped answering.');
    expect(shown(degraded)).toEqual(['Another half', 'The model stopped answering.']);
  });

  it('with SLACK_STREAMING=edit never starts a stream', async () => {
    const threadTs = question();
    const reply = fleet({ mode: 'edit' }).open(threadTs);
    await reply.begin('_Asking…_');
    await streamInSteps(reply, 'An answer edited into place, as before.', 3);
    expect(slack.callsOf('chat.startStream')).toEqual([]);
    expect(shown(threadTs)).toEqual(['An answer edited into place, as before.']);
  });

  it('waits out 429s on appends and on the stop, losing no text', async () => {
    const answer = 'Alpha beta gamma delta epsilon zeta eta theta iota kappa.';
    const threadTs = question();
    const reply = fleet().open(threadTs);
    await reply.begin('_Asking…_');
    slack.failNext('chat.appendStream', { rateLimitedSeconds: 1 });
    slack.failNext('chat.stopStream', { rateLimitedSeconds: 1 });
    await streamInSteps(reply, answer, 3);
    expect(shown(threadTs)).toEqual([answer]);
    expect(slack.rateLimited.get('chat.stopStream')).toBe(1);
    expect(slack.rateLimited.get('chat.appendStream')).toBe(1);
    expect(slack.callsOf('chat.startStream').length).toBe(1);
  });
});

describe('the fake Slack enforcing tiers', () => {
  it('answers 429 past Tier 2 and past a short burst of posts in one channel, and counts them', async () => {
    slack.enforceTiers();
    const client = createWebClient(BOT_TOKEN, slack.apiUrl, capturedLogger('silent').logger);
    const threadTs = question();
    const outcomes: string[] = [];
    for (let i = 0; i < 21; i++) {
      await client.chat
        .startStream({ channel: CHANNEL, thread_ts: threadTs, markdown_text: 'x', recipient_user_id: 'U0HUMAN', recipient_team_id: TEAM_ID })
        .then(() => outcomes.push('ok'))
        .catch(() => outcomes.push('429'));
    }
    expect(outcomes.filter((o) => o === 'ok').length).toBe(20);
    expect(slack.rateLimited.get('chat.startStream')).toBe(1);
    for (const text of ['a', 'b', 'c']) await client.chat.postMessage({ channel: 'C0ONE', text });
    await client.chat.postMessage({ channel: 'C0TWO', text: 'd' });
    await expect(client.chat.postMessage({ channel: 'C0ONE', text: 'e' })).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error' });
    expect(slack.rateLimited.get('chat.postMessage')).toBe(1);
  });
});
