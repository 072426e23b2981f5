/**
 * The web side of the sandbox: a page that plays a Slack workspace, and the
 * small JSON API behind it. Everything a person does on the page reaches the
 * bot the way Slack would send it (over the fake Slack's Socket Mode
 * connection: events, slash commands, block_actions); everything the bot
 * does is read back from the fake Slack and pushed to the page (SSE).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOT_USER_ID, type FakeSlack } from '../test/fakes/slack.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
/** How often the page's view of the workspace is compared with the fake Slack's. */
const PUSH_CHECK_MS = 100;
const MAX_BODY_BYTES = 64 * 1024;

export const ME = 'U0HUMAN';
export const ME_NAME = 'Ada';
export const CHANNELS = [
  { id: 'C0GENERAL', name: 'general', kind: 'channel' },
  { id: 'C0RANDOM', name: 'random', kind: 'channel' },
  // conversations.open in the fake Slack names a DM after the person: the bot's DMs to us land here.
  { id: `D${ME.slice(1)}`, name: 'metis', kind: 'dm' },
] as const;

/** The slash commands the app declares, read from its manifest, so the page offers exactly those. */
export function manifestCommands(manifestPath = join(here, '..', 'manifest.yml')): string[] {
  const text = readFileSync(manifestPath, 'utf8');
  return [...text.matchAll(/^\s*-\s*command:\s*(\/\S+)/gm)].map((m) => m[1] as string);
}

/** Something only this person sees (an ephemeral answer), or a command answer shown in the channel. */
interface LocalItem {
  id: number;
  channel: string;
  /** Shown after this many stored messages, so it sits where it happened. */
  after: number;
  kind: 'ephemeral' | 'in_channel';
  text: string;
  blocks?: unknown[];
}

/** Slack escapes these in message text, and writes a mention of the app as <@BOTID>. */
export function toSlackText(typed: string): string {
  return typed
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@metis\b/gi, `<@${BOT_USER_ID}>`);
}

export interface Workspace {
  url: string;
  close(): Promise<void>;
}

export async function startWorkspace(opts: { slack: FakeSlack; port?: number; mode: string; commands?: string[] }): Promise<Workspace> {
  const { slack } = opts;
  const commands = opts.commands ?? manifestCommands();
  const target = { mode: 'socket' } as const;
  const local: LocalItem[] = [];
  const responseChannels = new Map<string, string>();
  let responsesSeen = 0;
  let ephemeralsSeen = 0;
  let nextLocalId = 1;

  const addLocal = (channel: string, body: Record<string, unknown>) => {
    if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return;
    local.push({
      id: nextLocalId++,
      channel,
      after: slack.messages.length,
      kind: body.response_type === 'in_channel' ? 'in_channel' : 'ephemeral',
      text: typeof body.text === 'string' ? body.text : '',
      ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}),
    });
  };

  /** Picks up what the bot sent to response_url addresses and as ephemeral messages since the last look. */
  const collect = () => {
    for (; responsesSeen < slack.responses.length; responsesSeen++) {
      const r = slack.responses[responsesSeen];
      const channel = r && responseChannels.get(r.url);
      if (r && channel) addLocal(channel, r.body);
    }
    for (; ephemeralsSeen < slack.ephemerals.length; ephemeralsSeen++) {
      const e = slack.ephemerals[ephemeralsSeen];
      if (e && e.user === ME) addLocal(e.channel, { text: e.text });
    }
  };

  const state = () => {
    collect();
    return {
      me: ME,
      bot: BOT_USER_ID,
      mode: opts.mode,
      users: { [ME]: `${ME_NAME} (you)`, [BOT_USER_ID]: 'metis' },
      channels: CHANNELS,
      commands,
      messages: slack.messages
        .map((m, index) => ({ m, index }))
        .filter(({ m }) => !m.deleted)
        .map(({ m, index }) => ({
          index,
          channel: m.channel,
          ts: m.ts,
          thread_ts: m.thread_ts,
          user: m.user,
          bot: m.bot_id !== undefined,
          text: m.text,
          markdown: m.markdown,
          blocks: m.blocks,
          kind: m.metadata?.event_type,
        })),
      local,
    };
  };

  /**
   * Changes whenever a message is posted, edited, streamed into (a native stream grows its text without an
   * edit) or deleted, or something only I see arrives.
   */
  const version = () =>
    `${slack.messages.length}/${slack.messages.reduce((n, m) => n + m.edits + m.text.length + (m.streaming ? 1 : 0) + (m.deleted ? 1 : 0), 0)}/${slack.responses.length}/${slack.ephemerals.length}/${local.length}`;

  async function post(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const channel = CHANNELS.find((c) => c.id === body.channel);
    const typed = typeof body.text === 'string' ? body.text.trim() : '';
    if (!channel || !typed) return { ok: false, error: 'a known channel and some text are needed' };
    const threadTs = typeof body.thread_ts === 'string' && body.thread_ts ? body.thread_ts : undefined;

    const slash = /^(\/\S+)\s*([\s\S]*)$/.exec(typed);
    if (slash && !threadTs) {
      const [, command = '', text = ''] = slash;
      if (!commands.includes(command)) return { ok: false, error: `${command} is not a command of this app (try ${commands.join(', ')})` };
      const r = await slack.sendSlashCommand(target, { command, text, user: ME, channel: channel.id });
      responseChannels.set(r.responseUrl, channel.id);
      addLocal(channel.id, r.body);
      return { ok: true };
    }

    const m = slack.postAsUser({ channel: channel.id, user: ME, text: toSlackText(typed), thread_ts: threadTs });
    // As Slack does for this app (manifest.yml: message.im, message.channels, app_mention): every message arrives
    // as a `message` event (the bot answers the thread's asker without a mention), and a mention also as app_mention.
    await slack.sendSocketEvent(slack.eventFor(m, 'message'));
    if (channel.kind !== 'dm' && m.text.includes(`<@${BOT_USER_ID}>`)) await slack.sendSocketEvent(slack.eventFor(m, 'app_mention'));
    return { ok: true, ts: m.ts };
  }

  async function click(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const channel = CHANNELS.find((c) => c.id === body.channel);
    if (!channel || typeof body.actionId !== 'string' || typeof body.value !== 'string') return { ok: false, error: 'channel, actionId and value are needed' };
    const messageTs = typeof body.messageTs === 'string' && body.messageTs ? body.messageTs : undefined;
    const r = await slack.sendAction(target, { actionId: body.actionId, value: body.value, user: ME, channel: channel.id, messageTs });
    responseChannels.set(r.responseUrl, channel.id);
    return { ok: true };
  }

  const readJson = (req: IncomingMessage): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
        else chunks.push(c);
      });
      req.on('end', () => {
        try {
          const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          resolve(typeof v === 'object' && v !== null ? v : {});
        } catch (err) {
          reject(err);
        }
      });
      req.on('error', reject);
    });

  const send = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));

  const streams = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = PAGE_FILES[path];
    if (req.method === 'GET' && page) {
      res
        .writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'" })
        .end(readFileSync(join(here, 'page', page.file)));
      return;
    }
    if (req.method === 'GET' && path === '/api/state') return send(res, 200, state());
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify(state())}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const handler = req.method === 'POST' && path === '/api/messages' ? post : req.method === 'POST' && path === '/api/actions' ? click : undefined;
    if (!handler) return send(res, 404, { ok: false, error: 'not found' });
    readJson(req)
      .then(handler)
      .then(
        (r) => send(res, r.ok ? 200 : 400, r),
        (err: unknown) => send(res, 502, { ok: false, error: `the bot did not take it: ${err instanceof Error ? err.message : String(err)}` }),
      );
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let shown = '';
  const pusher = setInterval(() => {
    if (streams.size === 0) return;
    const now = version();
    if (now === shown) return;
    shown = now;
    const data = `data: ${JSON.stringify(state())}\n\n`;
    for (const s of streams) s.write(data);
  }, PUSH_CHECK_MS);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      clearInterval(pusher);
      for (const s of streams) s.end();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
