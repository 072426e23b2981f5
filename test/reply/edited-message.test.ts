/**
 * The edited-message Reply on its own, against the fake Slack: a placeholder,
 * then coalesced edits, then the final text; long answers continue in further
 * messages without breaking a code block; what Slack refuses or a person
 * deletes is worked around; nothing the model writes acts in Slack.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { METADATA } from '../../src/conversation/build-messages.ts';
import { EditPacer } from '../../src/reply/edit-pacer.ts';
import { editedMessageReplies } from '../../src/reply/edited-message.ts';
import { AnswerAbandoned, ConversationGone, type Reply, type ReplyProgress } from '../../src/reply/reply.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { BOT_TOKEN, type FakeMessage, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

const CHANNEL = 'C0CHAN';
const FENCE_LINE = /^```/gm;

let redis: Redis;
let slack: FakeSlack;
let threadTs: string;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
beforeEach(async () => {
  slack = await startFakeSlack();
  threadTs = slack.postAsUser({ channel: CHANNEL, user: 'U0HUMAN', text: 'a question' }).ts;
});
afterEach(() => slack.close());

/**
 * One answer's Reply. The interval between streaming edits is long, so an
 * edit goes only when the test flushes (or finishes): each step is exact.
 */
function replyFor(opts: { maxChars?: number; editsPerMinute?: number; resume?: ReplyProgress } = {}) {
  const captured = capturedLogger('debug');
  const pacer = new EditPacer(redis, `t${randomBytes(4).toString('hex')}`, { editsPerMinute: opts.editsPerMinute ?? 0, minIntervalMs: 60_000 }, captured.logger);
  const replies = editedMessageReplies(createWebClient(BOT_TOKEN, slack.apiUrl, captured.logger), pacer, opts.maxChars ?? 4000);
  const reported: string[][] = [];
  const reply: Reply = replies({
    channel: CHANNEL,
    threadTs,
    requestId: 'Ev0REQUEST',
    asker: { user: 'U0HUMAN', teamId: 'T0001' },
    logger: captured.logger,
    resume: opts.resume,
    onMessagesChanged: (ts) => reported.push(ts),
  });
  return { reply, reported, pacer, entries: captured.entries };
}

const shown = () => slack.botReplies(CHANNEL, threadTs);
const updates = () => slack.callsOf('chat.update').map((c) => c.params);
const textOfBlocks = (params: Record<string, unknown>) => (params.blocks as { type: string; text?: string }[]).find((b) => b.type === 'markdown')?.text;

/** A markdown answer with a 40-line code block in the middle. */
const codeAnswer = () => `Here is the script:\n\n\`\`\`python\n${Array.from({ length: 40 }, (_, i) => `print("line ${i}")`).join('\n')}\n\`\`\`\n\nThat is all.`;

describe('the edited-message Reply', () => {
  it('posts a placeholder, edits in only the newest text, and ends with the final text in the same message', async () => {
    const { reply, reported } = replyFor();
    await reply.begin('_Asking…_');
    expect(shown().map((m) => [m.text, m.metadata?.event_type])).toEqual([['_Asking…_', METADATA.pending]]);
    const placeholder = (shown()[0] as FakeMessage).ts;
    expect(reply.messageTs).toEqual([placeholder]);
    expect(reported.at(-1)).toEqual([placeholder]);

    reply.update('Hel');
    reply.update('Hello');
    await reply.flush();
    reply.update('Hello, world');
    await reply.flush();
    await reply.finish('Hello, world.');

    // The intermediate "Hel" never went: edits coalesce to the newest text; the cursor shows until the end.
    expect(updates().map(textOfBlocks)).toEqual(['Hello …', 'Hello, world …', 'Hello, world.']);
    expect(shown().map((m) => [m.ts, m.text, m.metadata?.event_type, m.edits])).toEqual([[placeholder, 'Hello, world.', METADATA.answer, 3]]);
    expect(shown()[0]?.metadata?.event_payload).toEqual({ request_id: 'Ev0REQUEST' });
  });

  it('continues an answer longer than one message in further messages, closing and reopening the code block', async () => {
    const { reply, reported } = replyFor({ maxChars: 200 });
    await reply.begin('_Asking…_');
    const answer = codeAnswer();
    await reply.finish(answer);

    const messages = shown();
    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(reply.messageTs).toEqual(messages.map((m) => m.ts));
    expect(reported.at(-1)).toEqual(messages.map((m) => m.ts));
    for (const m of messages) {
      expect(m.text.length).toBeLessThanOrEqual(200);
      expect(m.metadata?.event_type).toBe(METADATA.answer);
      expect((m.text.match(FENCE_LINE) ?? []).length % 2, m.text).toBe(0); // no message leaves a code block open
    }
    expect(messages[0]?.text.startsWith('Here is the script:')).toBe(true);
    for (const m of messages.slice(1, -1)) expect(m.text.startsWith('```python\n'), m.text).toBe(true);
    // Without the fences added at the cuts, the messages read as the answer.
    const lines = messages.flatMap((m) => m.text.split('\n')).filter((l) => l.startsWith('print('));
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `print("line ${i}")`));
    expect(messages.at(-1)?.text.endsWith('That is all.')).toBe(true);
  });

  it('re-posts the answer when a person deleted the placeholder', async () => {
    const { reply, reported } = replyFor();
    await reply.begin('_Asking…_');
    const placeholder = reply.messageTs[0] as string;
    slack.deleteMessage(CHANNEL, placeholder);
    await reply.finish('The answer.');

    const messages = shown();
    expect(messages.map((m) => [m.text, m.metadata?.event_type])).toEqual([['The answer.', METADATA.answer]]);
    expect(messages[0]?.ts).not.toBe(placeholder);
    expect(reply.messageTs).toEqual([messages[0]?.ts]);
    expect(reported.at(-1)).toEqual([messages[0]?.ts]);
  });

  it('uses smaller messages once Slack says a message is too long', async () => {
    const { reply, entries } = replyFor({ maxChars: 4000 });
    await reply.begin('_Asking…_');
    slack.failNext('chat.update', { error: 'msg_too_long' });
    const answer = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} ${'x'.repeat(85)}.`).join('\n\n');
    await reply.finish(answer);

    const messages = shown();
    expect(messages.length).toBe(2); // 3,000 characters fit one message of 4,000, but not one of 60 % of it
    expect(messages.every((m) => m.text.length <= 0.6 * 4000)).toBe(true);
    expect(messages.map((m) => m.text).join('')).toBe(answer); // the cut falls between paragraphs
    expect(entries.some((e) => e.msg === 'Slack said the message is too long; using smaller messages' && e.limit === 2395)).toBe(true);
  });

  it('keeps partial text (without its cursor) when it fails, and says why in a message after it', async () => {
    const { reply } = replyFor();
    await reply.begin('_Asking…_');
    reply.update('Partial answer');
    await reply.flush();
    expect(shown()[0]?.text).toBe('Partial answer …');
    await reply.fail('Metis stopped answering.');

    expect(shown().map((m) => [m.text, m.metadata?.event_type])).toEqual([
      ['Partial answer', METADATA.answer],
      ['Metis stopped answering.', METADATA.notice],
    ]);
    expect(reply.messageTs).toEqual([shown()[0]?.ts]); // the failure notice is not part of the answer
  });

  it('turns the placeholder into the failure when no text was shown, keeping only the mentions it names', async () => {
    const { reply } = replyFor();
    await reply.begin('_Asking…_');
    await reply.fail(':no_entry_sign: _Cancelled by <@U0ADA>._ <@U0BOSS>', ['U0ADA']);
    expect(shown().map((m) => [m.text, m.metadata?.event_type])).toEqual([[':no_entry_sign: _Cancelled by <@U0ADA>._ @U0BOSS', METADATA.notice]]);
  });

  it('never lets the model broadcast, ping or link: streamed and final text are made inert', async () => {
    const { reply } = replyFor({ maxChars: 200 });
    await reply.begin('_Asking…_');
    reply.update('Hey <!here>, ');
    await reply.flush();
    await reply.finish(`Hey <!here>, <!channel> and <@U0BOSS>: see <https://evil.example/x|the docs>.\n\n${codeAnswer()} <!everyone>`);
    await reply.note('A note with <!channel> in it.');

    const sent = slack.calls.filter((c) => c.method.startsWith('chat.')).map((c) => JSON.stringify(c.params));
    expect(sent.length).toBeGreaterThan(3);
    for (const params of sent) expect(params).not.toMatch(/<[!@]|<https?:|link_names/);
    expect(shown()[0]?.text).toContain('@\u2060here, @\u2060channel and @U0BOSS: see the docs (https://evil.example/x).');
    expect(shown().at(-1)?.text).toBe('A note with @\u2060channel in it.');
  });

  it('counts its final edits in the fleet budget: they are sent regardless, but spend it', async () => {
    const { reply, pacer } = replyFor({ editsPerMinute: 6 });
    await reply.begin('_Asking…_');
    await reply.finish('Done.');
    expect(shown()[0]?.text).toBe('Done.');
    expect(pacer.take()).toBeGreaterThan(0); // the final edit spent what the budget had
  });

  it('takes over what an earlier attempt posted: restarts in its first message and removes the rest', async () => {
    const earlier = replyFor({ maxChars: 200 });
    await earlier.reply.begin('_Asking…_');
    earlier.reply.update(codeAnswer());
    await earlier.reply.flush(); // the worker died here, mid-answer, after several messages
    const [first, ...rest] = earlier.reply.messageTs;
    expect(rest.length).toBeGreaterThan(0);

    const { reply, reported } = replyFor({ maxChars: 200, resume: { messageTs: earlier.reply.messageTs } });
    await reply.begin('_Asking again…_');
    expect(shown().map((m) => [m.ts, m.text, m.metadata?.event_type])).toEqual([[first, '_Asking again…_', METADATA.pending]]);
    expect(reported.at(-1)).toEqual([first]);
    await reply.finish('A shorter answer.');
    expect(shown().map((m) => [m.ts, m.text])).toEqual([[first, 'A shorter answer.']]);
  });

  it('stops with ConversationGone when the conversation is gone, and with AnswerAbandoned once abandoned', async () => {
    const handedOver = replyFor().reply;
    handedOver.abandon();
    await expect(handedOver.begin('_Asking…_')).rejects.toBeInstanceOf(AnswerAbandoned);
    expect(shown()).toEqual([]);

    const gone = replyFor().reply;
    slack.setChannelGone(CHANNEL, 'is_archived');
    await expect(gone.begin('_Asking…_')).rejects.toBeInstanceOf(ConversationGone);
    await expect(gone.note('still there?')).rejects.toBeInstanceOf(ConversationGone);
  });
});
