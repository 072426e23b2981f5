/**
 * The context researchers bring, end to end against the fakes: files shared
 * with a question or earlier in its thread reach the model, each model's real
 * context window decides how much of a long thread goes, a question too long
 * for the model is refused with the models that take it, and a refusal from
 * the gateway is learned from and answered by a shorter prompt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeModel } from '../fakes/gateway.ts';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, DEFAULT_USER, type Harness, startHarness } from '../helpers/harness.ts';
import { minimalPdf } from '../helpers/pdf.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const SMALL = 'Small-8K-Instruct';
const LARGE = 'Large-128K-Instruct';
const WINDOWED: FakeModel[] = [
  { name: LARGE, status: 'Live', contextWindowTokens: 131_072 },
  { name: SMALL, status: 'Live', contextWindowTokens: 8_192 },
];

type Sent = { role: string; content: string }[];
const lastSent = (harness: Harness) => (harness.gateway.chatRequests.at(-1)?.body.messages ?? []) as Sent;

/** A thread of `n` messages by two people, each about 300 characters and numbered, the newest last. */
function longThread(harness: Harness, n: number) {
  harness.slack.setUserName('U0BOB', 'Bob');
  const root = harness.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0BOB', text: `MSG-001 ${'a'.repeat(290)}` });
  for (let i = 2; i <= n; i++) {
    const user = i % 2 ? 'U0BOB' : DEFAULT_USER;
    harness.slack.postAsUser({ channel: DEFAULT_CHANNEL, user, text: `MSG-${String(i).padStart(3, '0')} ${'b'.repeat(290)}`, thread_ts: root.ts });
  }
  return root;
}

describe('files as context', () => {
  it('a text file and a PDF shared with the question reach the model under their names, and the thread says what was read', async () => {
    h = await startHarness({ mode: 'socket' });
    const log = h.slack.addFile({ name: 'build.log', mimetype: 'text/plain', filetype: 'text', content: 'ERROR: /scratch quota exceeded\n' });
    const paper = h.slack.addFile({ name: 'paper.pdf', mimetype: 'application/pdf', filetype: 'pdf', content: minimalPdf(['Sparse attention on SN40L']) });
    const photo = h.slack.addFile({ name: 'rack.png', mimetype: 'image/png', filetype: 'png', content: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]) });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> why did the job fail?`, files: [log.shared, paper.shared, photo.shared] });
    const replies = await h.reply(q, { count: 2 });

    const sent = lastSent(h);
    const fileTurns = sent.filter((m) => m.content.startsWith('File "'));
    expect(fileTurns.map((m) => m.content.split('\n')[0])).toEqual(['File "build.log" (shared in this conversation):', 'File "paper.pdf" (shared in this conversation):']);
    expect(fileTurns[0]?.content).toContain('ERROR: /scratch quota exceeded');
    expect(fileTurns[1]?.content).toContain('Sparse attention on SN40L');
    // The files come just before the question, which is last.
    expect(sent.at(-1)?.content).toBe('Ada: why did the job fail?');
    // Downloaded with the bot token; nothing else was sent it.
    expect(h.slack.fileRequests.every((r) => r.authorization?.startsWith('Bearer xoxb-'))).toBe(true);

    const note = replies.find((r) => r.text.includes(':paperclip:'));
    expect(note?.text).toContain('Read: build.log, paper.pdf.');
    expect(note?.text).toContain('Skipped: rack.png (images are not read by this model).');
  });

  it('a file shared earlier in the thread is read for a later question, and is not announced again once answered', async () => {
    h = await startHarness({ mode: 'http' });
    h.slack.setUserName('U0BOB', 'Bob');
    const csv = h.slack.addFile({ name: 'runs.csv', mimetype: 'text/csv', filetype: 'csv', content: 'nodes,seconds\n64,812\n128,431\n' });
    const root = h.slack.postAsUser({ channel: DEFAULT_CHANNEL, user: 'U0BOB', text: 'scaling numbers from last night', files: [csv.shared] });
    const first = await h.mention({ text: `<@${BOT_USER_ID}> what is the speedup from 64 to 128 nodes?`, thread_ts: root.ts });
    const firstReplies = await h.reply(first, { count: 2 });
    const sent = lastSent(h);
    const fileAt = sent.findIndex((m) => m.content.startsWith('File "runs.csv"'));
    const sharedAt = sent.findIndex((m) => m.content.startsWith('Bob: scaling numbers'));
    // The file sits just before the message that shared it.
    expect(fileAt).toBeGreaterThan(0);
    expect(sharedAt).toBe(fileAt + 1);
    expect(firstReplies.some((r) => r.text.includes('Read: runs.csv.'))).toBe(true);

    const second = await h.mention({ text: `<@${BOT_USER_ID}> and the efficiency?`, thread_ts: root.ts });
    await h.reply(second);
    expect(lastSent(h).some((m) => m.content.includes('128,431'))).toBe(true);
    const afterSecond = h.slack.botReplies(DEFAULT_CHANNEL, root.ts).filter((r) => Number(r.ts) > Number(second.ts));
    expect(afterSecond.some((r) => r.text.includes(':paperclip:'))).toBe(false);
  });
});

describe("each model's context window", () => {
  it('a 60-message thread to a model with an 8,192-token window keeps the newest turns; to a 131,072-token model it goes whole', async () => {
    h = await startHarness({ mode: 'socket', gateway: { models: WINDOWED } });
    const root = longThread(h, 60);

    const small = await h.mention({ text: `<@${BOT_USER_ID}> -m ${SMALL} summarise`, thread_ts: root.ts });
    await h.reply(small);
    const smallSent = lastSent(h).map((m) => m.content);
    const kept = smallSent.filter((c) => /MSG-\d{3}/.test(c)).map((c) => Number(/MSG-(\d{3})/.exec(c)?.[1]));
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(60);
    // The newest turns, in order, with no holes: oldest dropped first.
    expect(kept.at(-1)).toBe(60);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 61 - kept.length + i));
    // Within the window with room for the answer (counted in UTF-8 bytes, never fewer than tokens).
    expect(Buffer.byteLength(smallSent.join(''))).toBeLessThan(8_192 - 2_048);
    expect(smallSent.at(-1)).toBe('Ada: summarise');

    const large = await h.mention({ text: `<@${BOT_USER_ID}> -m ${LARGE} summarise`, thread_ts: root.ts });
    await h.reply(large);
    const largeKept = lastSent(h)
      .map((m) => m.content)
      .filter((c) => /^(Ada|Bob): MSG-\d{3}/.test(c));
    expect(largeKept).toHaveLength(60);
  });

  it('a question too long for the model asked for says its size and names the Live models that take it; the gateway is not asked', async () => {
    h = await startHarness({ mode: 'http', gateway: { models: WINDOWED } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m ${SMALL} ${'x'.repeat(100_000)}` });
    const [answer] = await h.reply(q);
    expect(answer?.text).toContain(`Your question is too long for \`${SMALL}\``);
    expect(answer?.text).toContain('100,0');
    expect(answer?.text).toContain(`\`${LARGE}\``);
    expect(h.gateway.chatRequests).toHaveLength(0);
  });

  it('a question too long for every Live model says so', async () => {
    h = await startHarness({ mode: 'socket', gateway: { models: WINDOWED } });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> ${'y'.repeat(200_000)}` });
    const [answer] = await h.reply(q);
    expect(answer?.text).toContain('too long for every model Live on Metis right now');
    expect(answer?.text).toContain(`\`${LARGE}\``);
    expect(h.gateway.chatRequests).toHaveLength(0);
  });

  it('when the gateway refuses the prompt as too long, the limit it names is learned and a shorter prompt answers, with nothing shown twice', async () => {
    // The gateway does not publish this model's window, and the setting overstates it.
    const model = 'Unlisted-Window-Instruct';
    h = await startHarness({
      mode: 'socket',
      gateway: { models: [{ name: model, status: 'Live', contextWindowTokens: 2_000, details: 'no-window' }] },
      env: { METIS_MODEL_CONTEXT_TOKENS: `${model}=32768` },
    });
    const root = longThread(h, 60);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> what did MSG-060 say?`, thread_ts: root.ts });
    const replies = await h.reply(q);
    expect(h.gateway.chatRequests).toHaveLength(2);
    const [refused, answered] = h.gateway.chatRequests.map((r) => (r.body.messages as Sent).length);
    expect(answered).toBeLessThan(refused as number);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toBe('You said: Ada: what did MSG-060 say?');

    // The fleet remembers: the next question is fitted to the learned window at once.
    const next = await h.mention({ text: `<@${BOT_USER_ID}> and MSG-059?`, thread_ts: root.ts });
    await h.reply(next);
    expect(h.gateway.chatRequests).toHaveLength(3);
  });
});
