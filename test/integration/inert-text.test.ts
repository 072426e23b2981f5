/**
 * Nothing the model writes, and nothing a person or a payload makes the bot
 * echo, acts in Slack: no broadcast, ping or hidden link reaches Slack live —
 * checked on every call Slack received, streamed edits and continuations
 * included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { DEFAULT_CHANNEL, type Harness, startHarness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait.ts';

const J = '\u2060';
const LIVE_TOKEN = /<(?:[@!#]|[a-z][a-z0-9+.-]*:)|@(?:channel|here|everyone)\b/i;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every text Slack was asked to show: markdown blocks, section text, notification text. */
function textsSent(harness: Harness): string[] {
  const out: string[] = [];
  for (const c of harness.slack.calls) {
    if (!c.method.startsWith('chat.')) continue;
    expect(c.params.link_names, `${c.method} must not ask Slack to link names`).toBeUndefined();
    expect(c.params.parse, `${c.method} must not ask Slack to parse names`).toBeUndefined();
    for (const k of ['text', 'markdown_text'] as const) if (typeof c.params[k] === 'string') out.push(c.params[k] as string);
    for (const b of (c.params.blocks ?? []) as { text?: unknown }[]) {
      if (typeof b.text === 'string') out.push(b.text);
      else if (b.text && typeof (b.text as { text?: unknown }).text === 'string') out.push((b.text as { text: string }).text);
    }
  }
  return out;
}

const expectNothingLive = (texts: string[]) => {
  expect(texts.length).toBeGreaterThan(0);
  for (const t of texts) expect(t, t.slice(0, 200)).not.toMatch(LIVE_TOKEN);
};

const FORMS = 'Team <!channel>, <!here> and <!everyone>: ask <!subteam^S0ONCALL|@oncall> or <@U0BOSS> (<@U0BOSS|boss>), see <https://evil.example/x|the docs>.';
const SHOWN = [`@${J}channel`, `@${J}here`, `@${J}everyone`, '@oncall', '@U0BOSS', '@boss', 'the docs (https://evil.example/x)'];

describe('model text', () => {
  it('a streamed answer that continues in a second message carries every form inert, in every edit', async () => {
    h = await startHarness({ mode: 'socket', gateway: { randomSplits: false, chunkDelayMs: 3 }, env: { METIS_SLACK_MESSAGE_MAX_CHARS: '500' } });
    const filler = Array.from({ length: 10 }, (_, i) => `Line ${i} of a long answer about interconnects.`).join('\n');
    const answer = `${FORMS}\n\n${filler}\n\n${FORMS}\n\n${filler}\n\nLast: ${FORMS}`;
    h.gateway.setReply(() => answer);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> tell everyone` });
    await h.reply(q, { timeoutMs: 20_000 });
    await waitFor(() => (h as Harness).slack.botReplies(DEFAULT_CHANNEL, q.ts).every((m) => m.metadata?.event_type === 'metis_answer'), 'all parts final');
    const parts = (h as Harness).slack.botReplies(DEFAULT_CHANNEL, q.ts);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    // Streamed: the live message was edited while the answer arrived.
    expect(h.slack.callsOf('chat.update').length).toBeGreaterThan(parts.length);
    expectNothingLive(textsSent(h));
    for (const p of [parts[0], parts.at(-1)]) for (const s of SHOWN) expect(p?.text).toContain(s);
  });


  it('text that grows when made inert still fits each message', async () => {
    h = await startHarness({ mode: 'socket', gateway: { randomSplits: false }, env: { METIS_SLACK_MESSAGE_MAX_CHARS: '12000' } });
    // Each `<@` gains a word joiner: 9,000 characters become 13,500 once inert, over Slack's 12,000.
    h.gateway.setReply(() => `Pings: ${'<@'.repeat(4500)} done.`);
    const q = await h.mention({ text: `<@${BOT_USER_ID}> ping` });
    await h.reply(q, { timeoutMs: 30_000 });
    await waitFor(() => (h as Harness).slack.botReplies(DEFAULT_CHANNEL, q.ts).every((m) => m.metadata?.event_type === 'metis_answer'), 'all parts final');
    const parts = (h as Harness).slack.botReplies(DEFAULT_CHANNEL, q.ts);
    expect(parts.at(-1)?.text).toContain('done.');
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(12_000);
    expectNothingLive(textsSent(h));
  });
});

describe('echoed values', () => {
  it('a model name a person asked for with -m is echoed readably, not as a broadcast', async () => {
    h = await startHarness({ mode: 'socket' });
    const q = await h.mention({ text: `<@${BOT_USER_ID}> -m <!channel> hi` });
    const [note] = await h.reply(q);
    expect(note?.text).toContain(`@${J}channel`);
    expectNothingLive(textsSent(h));
  });

  it('a button value, a /metis word and a /metis model name come back inert', async () => {
    h = await startHarness({ mode: 'socket' });
    const click = await h.click('use_model', '<!channel>');
    await waitFor(() => (h as Harness).slack.responses.find((r) => r.url === click.responseUrl), 'the confirmation');
    // A forged value is refused without being repeated (only a Live model's name is ever accepted).
    const refusal = String(h.slack.responses.find((r) => r.url === click.responseUrl)?.body.text);
    expect(refusal).toMatch(/does not name a model that is Live/);
    expect(refusal).not.toMatch(LIVE_TOKEN);
    expect(refusal).not.toContain('channel>');

    const help = await h.command('/metis', '<!here>');
    expect(String(help.body.text)).toContain(`@${J}here`);
    expect(String(help.body.text)).not.toMatch(LIVE_TOKEN);

    const model = await h.command('/metis', 'model <@U0BOSS|boss>');
    expect(String(model.body.text)).toContain('@boss');
    expect(String(model.body.text)).not.toMatch(LIVE_TOKEN);

    // Nothing forged was stored: the channel still has no default.
    const shown = await h.command('/metis', 'model');
    expect(String(shown.body.text)).toContain('no default model');
    expect(String(shown.body.text)).not.toMatch(LIVE_TOKEN);
  });
});
