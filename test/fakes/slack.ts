/**
 * A fake Slack for tests: the Web API methods the bot calls (form-encoded
 * POSTs to /api/<method>, answers shaped as Slack's), signed HTTP event
 * delivery to the bot, and a Socket Mode websocket (hello, envelopes, acks).
 * It keeps every message so tests can read a thread as a person would see it,
 * enforces Slack's size limits, and injects faults (429 + Retry-After, platform
 * errors) on demand. Like a workspace the app was installed in from
 * manifest.yml, it grants the bot token only the manifest's bot scopes: a call
 * that needs another answers `missing_scope`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { manifestBotScopes } from '../../src/ops/manifest.ts';
import { assertShortcut, assertSubscribed } from './slack-manifest.ts';
import { createViewsFake, type OpenedView, viewSubmissionPayload } from './slack-shortcuts.ts';
import { FakeStreams, SLACK_TIERS, type TierLimit, TierLimiter } from './slack-streams.ts';
import { createFakeAssistant, type FakeAssistant } from './slack-assistant.ts';

export const TEAM_ID = 'T0001';
export const BOT_USER_ID = 'U0BOT';
export const BOT_ID = 'B0BOT';
export const BOT_TOKEN = 'xoxb-test-bot-token';
export const APP_TOKEN = 'xapp-1-test-app-token';
export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/** chat.update `text` limit, and the markdown_text limit, per Slack's method docs. */
const UPDATE_TEXT_LIMIT = 4000;
const MARKDOWN_LIMIT = 12_000;

export { manifestBotScopes };

export const MANIFEST_SCOPES = manifestBotScopes(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));

/**
 * The bot-token scope each Web API method needs, per Slack's method reference
 * (slack.md §2.3): any one of the listed scopes is enough. Methods that need
 * none (auth.test, views.publish) are not listed; a method missing here is
 * one the fake does not know, and it says so.
 */
const HISTORY_BY_PREFIX: Record<string, string[]> = { C: ['channels:history', 'groups:history'], G: ['groups:history', 'mpim:history'], D: ['im:history'] };
function scopesNeeded(method: string, params: Record<string, unknown>): string[] | undefined {
  switch (method) {
    case 'chat.postMessage':
    case 'chat.update':
    case 'chat.delete':
    case 'chat.postEphemeral':
    case 'chat.startStream':
    case 'chat.appendStream':
    case 'chat.stopStream':
      return ['chat:write'];
    case 'assistant.threads.setStatus':
      return ['chat:write', 'assistant:write'];
    case 'assistant.threads.setSuggestedPrompts':
    case 'assistant.threads.setTitle':
      return ['assistant:write'];
    case 'conversations.replies':
    case 'conversations.history':
      return HISTORY_BY_PREFIX[String(params.channel ?? '').charAt(0)] ?? ['channels:history'];
    case 'conversations.open':
      return ['im:write'];
    case 'users.info':
      return ['users:read'];
    case 'usergroups.users.list':
      return ['usergroups:read'];
    case 'files.info':
      return ['files:read'];
    case 'reactions.add':
      return ['reactions:write'];
    default:
      return undefined;
  }
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  text: string;
  /** The message was written with markdown_text (rendered as markdown by Slack). */
  markdown: boolean;
  metadata?: { event_type: string; event_payload?: Record<string, unknown> };
  /** Block Kit blocks as sent (markdown blocks carry the answer; an actions block may carry buttons). */
  blocks?: Record<string, unknown>[];
  /** The notification text sent with blocks. */
  fallback?: string;
  /** How many chat.update calls changed it. */
  edits: number;
  deleted?: boolean;
  /** Files shared with the message, as events and conversations.replies carry them. */
  files?: Record<string, unknown>[];
  /** A native stream (chat.startStream) still open; see slack-streams.ts. */
  streaming?: boolean;
  streamStartedAt?: number;
  streamMode?: 'markdown' | 'chunks';
  /** Who a stream in a channel thread was started for. */
  recipient?: { user?: string; team?: string };
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  token?: string;
  at: number;
}

export type Fault = { error: string } | { rateLimitedSeconds: number };

/** What was clicked: a button (default), an option of a menu (the value is the option's), or Slack's feedback buttons. */
export type ActionKind = 'button' | 'static_select' | 'feedback_buttons';

export interface FakeSlack {
  url: string;
  /** Base URL for the bot's SLACK_API_URL. */
  apiUrl: string;
  calls: ApiCall[];
  messages: FakeMessage[];
  /** A message a person writes; returns its ts. Stored, so conversations.replies sees it. */
  postAsUser(m: { channel: string; user: string; text: string; thread_ts?: string; bot_id?: string; files?: Record<string, unknown>[] }): FakeMessage;
  /** The thread as Slack shows it: the root and its replies, oldest first, without deleted ones. */
  thread(channel: string, threadTs: string): FakeMessage[];
  /** Bot messages in a thread after a given ts. */
  botReplies(channel: string, threadTs: string): FakeMessage[];
  failNext(method: string, fault: Fault, times?: number): void;
  /**
   * As Slack's tiers: beyond `perMinute` calls of `method` in a rolling minute, answers 429 with
   * Retry-After (undefined lifts the limit).
   */
  setRateLimit(method: string, limit: TierLimit | undefined): void;
  /** Enforces Slack's tiers on every method an answer uses (slack-streams.ts SLACK_TIERS), or lifts them. */
  enforceTiers(on?: boolean): void;
  /** 429s answered so far, by method. */
  rateLimited: Map<string, number>;
  /** As Slack after its stream timeout: the stream of this message ends (appends answer message_not_in_streaming_state). */
  endStream(channel: string, ts: string): void;
  /** As a person pressing Slack's own stop on a native stream. */
  stopStreamAsUser(channel: string, ts: string): void;
  /** How long a stream lives before Slack ends it (default 5 minutes). */
  setStreamLifetime(ms: number): void;
  setChannelGone(channel: string, error?: string): void;
  /** As a person would: deletes a message in Slack. */
  deleteMessage(channel: string, ts: string): void;
  setUserName(user: string, name: string): void;
  /** Makes a user a guest, or a member of another workspace (Slack Connect). */
  setUserKind(user: string, kind: { guest?: boolean; externalTeam?: string }): void;
  setUsergroup(group: string, members: string[]): void;
  /** Messages only one person saw. */
  ephemerals: { channel: string; user: string; text: string }[];
  /** The App Home view last published for each user. */
  homeViews: Map<string, Record<string, unknown>>;
  /** Builds an Events API envelope for a stored message. */
  eventFor(m: FakeMessage, type: 'app_mention' | 'message', extra?: Record<string, unknown>): EventCallback;
  /** POSTs an event, signed, to the bot's /slack/events; resolves with the HTTP status and time to answer. */
  sendHttpEvent(
    url: string,
    body: unknown,
    opts?: { retryNum?: number; signature?: string; timestamp?: number; secret?: string },
  ): Promise<{ status: number; ms: number; body: string }>;
  /** Sends an events_api envelope over a Socket Mode connection; resolves when the bot acks it. */
  sendSocketEvent(body: EventCallback, opts?: { retryAttempt?: number; timeoutMs?: number }): Promise<{ ackMs: number }>;
  /** Runs a slash command as a person would; `body` is the bot's immediate answer (the ack). */
  sendSlashCommand(
    target: { mode: 'socket' } | { mode: 'http'; url: string },
    c: { command: string; text?: string; user?: string; channel?: string },
  ): Promise<{ ackMs: number; status?: number; body: Record<string, unknown>; responseUrl: string }>;
  /** Clicks a button as a person would. */
  sendAction(
    target: { mode: 'socket' } | { mode: 'http'; url: string },
    a: { actionId: string; value: string; user?: string; channel?: string; messageTs?: string; kind?: ActionKind },
  ): Promise<{ ackMs: number; status?: number; responseUrl: string }>;
  /**
   * Uses a message shortcut on `message` as a person would (a `message_action`; the manifest must declare it).
   * `actionTs` is when: a ts later than every message so far.
   */
  sendShortcut(
    target: { mode: 'socket' } | { mode: 'http'; url: string },
    s: { callbackId: string; message: FakeMessage; user?: string },
  ): Promise<{ ackMs: number; status?: number; responseUrl: string; actionTs: string; triggerId: string }>;
  /** Every modal the bot opened (views.open), oldest first. */
  views: OpenedView[];
  /** Submits an opened modal: `values` by block id (a select's by option value); `body` is the bot's acknowledgement. */
  submitView(
    target: { mode: 'socket' } | { mode: 'http'; url: string },
    view: OpenedView,
    values: Record<string, string>,
  ): Promise<{ ackMs: number; status?: number; body: Record<string, unknown> }>;
  /** Everything the bot posted to response_url addresses. */
  responses: { url: string; body: Record<string, unknown> }[];
  socketConnections(): number;
  waitForSocket(count?: number, timeoutMs?: number): Promise<void>;
  callsOf(method: string): ApiCall[];
  close(): Promise<void>;
  /** Slack is slow: every later call of `method` is answered only after `delayMs` (0: at once again). */
  delayMethod(method: string, delayMs: number): void;
  /** As a Slack-side disconnect: closes every open Socket Mode connection (the client reconnects on its own). */
  dropSocketConnections(): number;
  /** The scopes granted to the bot token, sent as `x-oauth-scopes` as Slack does (default: manifest.yml's bot scopes). */
  setGrantedScopes(scopes: string[]): void;
  /**
   * Uploads a file as a person would. `file` is the full object (files.info answers it); `shared` is what an
   * event's `files` carries (for a Slack Connect file, the stub `{id, mode: 'file_access', file_access: 'check_file_info'}`).
   */
  addFile(spec: FakeFileSpec): { file: Record<string, unknown>; shared: Record<string, unknown> };
  /** As a person would: deletes a file (files.info answers file_deleted, its download 404). */
  deleteFile(id: string): void;
  /** The AI-app methods' state: thread statuses, suggested prompts, titles (slack-assistant.ts). */
  assistant: FakeAssistant;
  /** Every download request the fake saw, on either host. */
  fileRequests: { host: string; path: string; authorization?: string }[];
  /** Bytes the fake wrote of each endless file's body, by file id (to show a reader stopped early). */
  endlessBytesSent: Map<string, number>;
}

export interface FakeFileSpec {
  name: string;
  mimetype: string;
  filetype?: string;
  /** The bytes; 'endless' writes forever (no content-length) until the reader hangs up; 'stall' sends headers and a few bytes, then nothing. */
  content: string | Uint8Array | 'endless' | 'stall';
  mode?: 'hosted' | 'snippet' | 'external';
  /** Shared from another organisation (Slack Connect): events carry a stub. */
  connect?: boolean;
  /**
   * How the download is served: at once; after a redirect on the same host (still needing the token);
   * after a redirect to another host (`localhost` rather than 127.0.0.1) with a presigned URL that needs no
   * token, as Slack's CDN; or to another host that, like Slack itself, needs the token.
   */
  redirect?: 'none' | 'same_host' | 'other_host_presigned' | 'other_host_needs_token';
  /** The `size` Slack reports (default: the content's length). */
  size?: number;
}

export interface EventCallback {
  token: string;
  team_id: string;
  api_app_id: string;
  type: 'event_callback';
  event_id: string;
  event_time: number;
  event: Record<string, unknown>;
  authorizations: unknown[];
  is_ext_shared_channel: boolean;
}

const SLACK_TS = /^\d+(\.\d+)?$/;

/** Orders Slack timestamps exactly (as numbers they lose the last microsecond digits). */
function compareTs(a: string, b: string): number {
  const [as = '0', af = ''] = a.split('.');
  const [bs = '0', bf = ''] = b.split('.');
  return Number(as) - Number(bs) || af.padEnd(6, '0').localeCompare(bf.padEnd(6, '0'));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Slack sends object parameters (blocks, metadata) as JSON strings inside the form. */
function parseParams(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if ((v.startsWith('{') || v.startsWith('[')) && ['metadata', 'blocks', 'attachments', 'view'].includes(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // leave as text
      }
    }
    out[k] = v;
  }
  return out;
}

/** One element of a block_actions payload, as Slack sends each kind. */
function actionPayload(a: { actionId: string; value: string; kind?: ActionKind }): Record<string, unknown> {
  const common = { action_id: a.actionId, block_id: 'b1', action_ts: String(Date.now() / 1000) };
  if (a.kind === 'static_select') return { type: 'static_select', ...common, selected_option: { text: { type: 'plain_text', text: a.value }, value: a.value } };
  return { type: a.kind ?? 'button', ...common, value: a.value };
}

export function signSlackRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function startFakeSlack(opts: { botScopes?: readonly string[] } = {}): Promise<FakeSlack> {
  let granted = [...(opts.botScopes ?? MANIFEST_SCOPES)];
  const calls: ApiCall[] = [];
  const messages: FakeMessage[] = [];
  const faults = new Map<string, Fault[]>();
  const tiers = new TierLimiter();
  const goneChannels = new Map<string, string>();
  const userNames = new Map<string, string>();
  const userKinds = new Map<string, { guest?: boolean; externalTeam?: string }>();
  const usergroups = new Map<string, string[]>();
  const ephemerals: { channel: string; user: string; text: string }[] = [];
  const homeViews = new Map<string, Record<string, unknown>>();
  const sockets = new Set<Socket>();
  const pendingAcks = new Map<string, (payload: unknown) => void>();
  const responses: { url: string; body: Record<string, unknown> }[] = [];
  let tsCounter = 0;
  let eventCounter = 0;
  const delays = new Map<string, number>();
  const files = new Map<string, { spec: FakeFileSpec; file: Record<string, unknown>; deleted?: boolean; sig: string }>();
  const fileRequests: { host: string; path: string; authorization?: string }[] = [];
  const endlessBytesSent = new Map<string, number>();
  let fileCounter = 0;
  const delayTimers = new Set<NodeJS.Timeout>();
  const modals = createViewsFake();
  const assistant = createFakeAssistant();

  const nextTs = () => {
    tsCounter += 1;
    return `${1_700_000_000 + tsCounter}.${String(tsCounter).padStart(6, '0')}`;
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
  };

  let baseUrl = '';
  let wss: WebSocketServer;

  // Indexed like Slack's own store (by channel+ts, and by thread) so a long run with thousands of messages stays cheap.
  const byTs = new Map<string, FakeMessage>();
  const byThread = new Map<string, FakeMessage[]>();
  const store = (m: FakeMessage) => {
    messages.push(m);
    byTs.set(`${m.channel}/${m.ts}`, m);
    const key = `${m.channel}/${m.thread_ts ?? m.ts}`;
    const list = byThread.get(key);
    if (list) list.push(m);
    else byThread.set(key, [m]);
  };
  const find = (channel: string, ts: string) => {
    const m = byTs.get(`${channel}/${ts}`);
    return m && !m.deleted ? m : undefined;
  };

  type Content = { text: string; markdown: boolean; blocks?: Record<string, unknown>[]; fallback?: string };

  /** What a message shows: markdown_text, markdown blocks (with a fallback text), or plain text. */
  function textOf(params: Record<string, unknown>): Content | { error: string } {
    const md = params.markdown_text;
    const text = params.text;
    const blocks = Array.isArray(params.blocks) ? (params.blocks as Record<string, unknown>[]) : undefined;
    if (md !== undefined && (text !== undefined || blocks !== undefined)) return { error: 'markdown_text_conflict' };
    if (typeof md === 'string') {
      if (md.length > MARKDOWN_LIMIT) return { error: 'msg_too_long' };
      if (md.trim() === '') return { error: 'no_text' };
      return { text: md, markdown: true };
    }
    if (blocks) {
      if (blocks.length > 50) return { error: 'invalid_blocks' };
      const markdown = blocks.filter((b) => b.type === 'markdown').map((b) => String(b.text ?? ''));
      // Slack's limit is cumulative over all markdown blocks of one message.
      if (markdown.join('').length > MARKDOWN_LIMIT) return { error: 'invalid_blocks' };
      if (markdown.some((t) => t.trim() === '')) return { error: 'invalid_blocks' };
      const shown = markdown.length ? markdown.join('\n') : typeof text === 'string' ? text : '';
      return { text: shown, markdown: markdown.length > 0, blocks, ...(typeof text === 'string' ? { fallback: text } : {}) };
    }
    if (typeof text === 'string' && text.trim() !== '') return { text, markdown: false };
    return { error: 'no_text' };
  }

  const streams = new FakeStreams<FakeMessage>({
    post: (m) => {
      const stored: FakeMessage = { ...m, ts: nextTs(), user: BOT_USER_ID, bot_id: BOT_ID, edits: 0 };
      store(stored);
      return stored;
    },
    find,
    now: () => Date.now(),
  });

  function api(method: string, params: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (method === 'apps.connections.open') {
      if (token !== APP_TOKEN) return { ok: false, error: 'invalid_auth' };
      return { ok: true, url: `${baseUrl.replace('http', 'ws')}/link/?ticket=${randomUUID()}&app_id=A0APP` };
    }
    if (token !== BOT_TOKEN) return { ok: false, error: 'invalid_auth' };
    const needed = scopesNeeded(method, params);
    if (needed && !needed.some((s) => granted.includes(s))) {
      return { ok: false, error: 'missing_scope', needed: needed.join(','), provided: granted.join(',') };
    }
    const channel = typeof params.channel === 'string' ? params.channel : undefined;
    if (channel && goneChannels.has(channel)) return { ok: false, error: goneChannels.get(channel) };
    const streamed = streams.handle(method, params);
    if (streamed) return streamed;
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'metis', team_id: TEAM_ID, user_id: BOT_USER_ID, bot_id: BOT_ID, is_enterprise_install: false };
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        // A user id as the channel posts in the bot's DM with that person (as conversations.open names it).
        if (/^[UW][A-Z0-9]+$/.test(channel)) return api(method, { ...params, channel: `D${channel.slice(1)}` }, token);
        const t = textOf(params);
        if ('error' in t) return { ok: false, error: t.error };
        const threadTs = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
        const m: FakeMessage = {
          channel,
          ts: nextTs(),
          thread_ts: threadTs,
          user: BOT_USER_ID,
          bot_id: BOT_ID,
          text: t.text,
          markdown: t.markdown,
          ...(t.blocks ? { blocks: t.blocks } : {}),
          ...(t.fallback !== undefined ? { fallback: t.fallback } : {}),
          metadata: params.metadata as FakeMessage['metadata'],
          edits: 0,
        };
        store(m);
        return { ok: true, channel, ts: m.ts, message: { type: 'message', text: m.text, user: BOT_USER_ID, bot_id: BOT_ID, ts: m.ts } };
      }
      case 'chat.update': {
        const m = channel && typeof params.ts === 'string' ? find(channel, params.ts) : undefined;
        if (!m) return { ok: false, error: 'message_not_found' };
        if (m.bot_id !== BOT_ID) return { ok: false, error: 'cant_update_message' };
        if (streams.refusesUpdate(m)) return { ok: false, error: 'streaming_state_conflict' };
        if (typeof params.text === 'string' && params.text.length > UPDATE_TEXT_LIMIT) return { ok: false, error: 'msg_too_long' };
        const t = textOf(params);
        if ('error' in t) return { ok: false, error: t.error };
        m.text = t.text;
        m.markdown = t.markdown;
        // As in Slack: blocks not sent in an update are kept; text is replaced.
        if (t.blocks) m.blocks = t.blocks;
        m.fallback = t.fallback;
        if (params.metadata) m.metadata = params.metadata as FakeMessage['metadata'];
        m.edits += 1;
        return { ok: true, channel, ts: m.ts, text: m.text };
      }
      case 'chat.delete': {
        const m = channel && typeof params.ts === 'string' ? find(channel, params.ts) : undefined;
        if (!m) return { ok: false, error: 'message_not_found' };
        m.deleted = true;
        return { ok: true, channel, ts: m.ts };
      }
      case 'conversations.replies': {
        const ts = typeof params.ts === 'string' ? params.ts : '';
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const root = find(channel, ts);
        if (!root) return { ok: false, error: 'thread_not_found' };
        // As Slack: `oldest`/`latest` bound the messages (exclusive unless `inclusive`); pages are oldest first.
        // With `latest`, a page holds the messages closest to it and the cursor goes back in time; without it,
        // pages start at the oldest message and the cursor goes forward.
        const bound = (name: 'oldest' | 'latest') => (params[name] === undefined || params[name] === '' ? undefined : String(params[name]));
        const oldest = bound('oldest');
        const latest = bound('latest');
        if (oldest !== undefined && !SLACK_TS.test(oldest)) return { ok: false, error: 'invalid_ts_oldest' };
        if (latest !== undefined && !SLACK_TS.test(latest)) return { ok: false, error: 'invalid_ts_latest' };
        const inclusive = params.inclusive === 'true' || params.inclusive === '1' || params.inclusive === true;
        const all = thread(channel, ts).filter((m) => {
          const afterOldest = oldest === undefined || (inclusive ? compareTs(m.ts, oldest) >= 0 : compareTs(m.ts, oldest) > 0);
          const beforeLatest = latest === undefined || (inclusive ? compareTs(m.ts, latest) <= 0 : compareTs(m.ts, latest) < 0);
          return afterOldest && beforeLatest;
        });
        const limit = Math.max(1, Math.min(1000, Number(params.limit ?? 1000)));
        const skip = params.cursor ? Number(Buffer.from(String(params.cursor), 'base64').toString()) : 0;
        const start = latest === undefined ? skip : Math.max(0, all.length - skip - limit);
        const end = latest === undefined ? skip + limit : all.length - skip;
        const page = all.slice(start, end);
        const more = latest === undefined ? end < all.length : start > 0;
        const nextSkip = skip + limit;
        const withMeta = params.include_all_metadata === 'true' || params.include_all_metadata === true;
        return {
          ok: true,
          messages: page.map((m) => ({
            type: 'message',
            ts: m.ts,
            thread_ts: m.thread_ts ?? (m.ts === ts ? ts : undefined),
            user: m.user,
            bot_id: m.bot_id,
            // Slack returns the message's own text field (the fallback, for block messages) and its blocks.
            text: m.blocks ? (m.fallback ?? '') : m.text,
            ...(m.blocks ? { blocks: m.blocks } : {}),
            ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
            ...(m.files ? { files: m.files } : {}),
          })),
          has_more: more,
          response_metadata: { next_cursor: more ? Buffer.from(String(nextSkip)).toString('base64') : '' },
        };
      }
      case 'conversations.open': {
        const users = String(params.users ?? '');
        if (!users) return { ok: false, error: 'users_list_not_supplied' };
        return { ok: true, channel: { id: `D${users.split(',')[0]?.slice(1)}` } };
      }
      case 'users.info': {
        const user = String(params.user ?? '');
        if (!/^[UW][A-Z0-9]+$/.test(user)) return { ok: false, error: 'user_not_found' };
        const name = userNames.get(user) ?? '';
        const kind = userKinds.get(user) ?? {};
        return {
          ok: true,
          user: {
            id: user,
            team_id: kind.externalTeam ?? TEAM_ID,
            name: name.toLowerCase() || user.toLowerCase(),
            real_name: name,
            is_restricted: kind.guest === true,
            is_ultra_restricted: false,
            ...(kind.externalTeam ? { is_stranger: true } : {}),
            profile: { display_name: name, real_name: name },
          },
        };
      }
      case 'views.publish': {
        const view = params.view as Record<string, unknown> | undefined;
        if (!view || typeof params.user_id !== 'string') return { ok: false, error: 'invalid_arguments' };
        homeViews.set(params.user_id, view);
        return { ok: true, view: { id: `V${nextTs()}`, ...view } };
      }
      case 'views.open':
        return modals.open(params);
      case 'files.info': {
        const stored = files.get(String(params.file ?? ''));
        if (!stored) return { ok: false, error: 'file_not_found' };
        if (stored.deleted) return { ok: false, error: 'file_deleted' };
        return { ok: true, file: stored.file, comments: [] };
      }
      case 'usergroups.users.list': {
        const group = String(params.usergroup ?? '');
        return { ok: true, users: usergroups.get(group) ?? [] };
      }
      case 'chat.postEphemeral': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const t = textOf(params);
        if ('error' in t) return { ok: false, error: t.error };
        ephemerals.push({ channel, user: String(params.user ?? ''), text: t.text });
        return { ok: true, message_ts: nextTs() };
      }
      default:
        return assistant.handle(method, params) ?? { ok: false, error: 'unknown_method' };
    }
  }

  function thread(channel: string, threadTs: string): FakeMessage[] {
    return (byThread.get(`${channel}/${threadTs}`) ?? []).filter((m) => !m.deleted).sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  /** Slack's sign-in page: what a download without a working token ends at, with 200. */
  const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Slack</title></head><body><form action="/signin">Sign in to Fake</form></body></html>';

  function sendFileBody(res: ServerResponse, id: string, spec: FakeFileSpec) {
    if (spec.content === 'endless') {
      res.writeHead(200, { 'content-type': spec.mimetype });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      endlessBytesSent.set(id, 0);
      const more = () => {
        while (!res.destroyed) {
          endlessBytesSent.set(id, (endlessBytesSent.get(id) ?? 0) + chunk.length);
          if (!res.write(chunk)) {
            res.once('drain', more);
            return;
          }
        }
      };
      res.on('close', () => res.removeAllListeners('drain'));
      more();
      return;
    }
    if (spec.content === 'stall') {
      res.writeHead(200, { 'content-type': spec.mimetype });
      res.write('a few bytes, then nothing');
      return;
    }
    const body = typeof spec.content === 'string' ? Buffer.from(spec.content, 'utf8') : Buffer.from(spec.content);
    res.writeHead(200, { 'content-type': spec.mimetype, 'content-length': String(body.length) }).end(body);
  }

  /**
   * Downloads, as Slack serves them (slack.md §4.1): `/files-pri/<team>-<id>/download/<name>` needs
   * `Authorization: Bearer <bot token>` and files:read; without them Slack redirects to the sign-in page,
   * which answers 200 with HTML. Returns false for paths that are not downloads.
   */
  function serveFile(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const host = req.headers.host ?? '';
    const authorization = req.headers.authorization;
    const record = () => fileRequests.push({ host, path: url.pathname, ...(authorization ? { authorization } : {}) });
    if (url.pathname === '/' && url.searchParams.has('redir')) {
      record();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGIN_PAGE);
      return true;
    }
    const m = /^\/(files-pri|files-origin|cdn)\/(?:T[A-Z0-9]+-)?(F[A-Z0-9]+)(?:\/|$)/.exec(url.pathname);
    if (!m) return false;
    record();
    const [, kind, id] = m as unknown as [string, string, string];
    const stored = files.get(id);
    if (!stored || stored.deleted) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('file not found');
      return true;
    }
    if (kind === 'cdn') {
      // Slack's CDN: a presigned URL, no token needed (and none should arrive).
      if (url.searchParams.get('sig') !== stored.sig) res.writeHead(403, { 'content-type': 'text/plain' }).end('bad signature');
      else sendFileBody(res, id, stored.spec);
      return true;
    }
    const authorized = authorization === `Bearer ${BOT_TOKEN}` && granted.includes('files:read');
    if (!authorized) {
      const port = (server.address() as AddressInfo).port;
      res.writeHead(302, { location: `http://${host || `127.0.0.1:${port}`}/?redir=${encodeURIComponent(url.pathname)}` }).end();
      return true;
    }
    const otherHost = `http://localhost:${(server.address() as AddressInfo).port}`;
    const redirect = kind === 'files-pri' ? (stored.spec.redirect ?? 'none') : 'none';
    if (redirect === 'same_host') res.writeHead(302, { location: `/files-origin/${TEAM_ID}-${id}/${encodeURIComponent(String(stored.file.name))}` }).end();
    else if (redirect === 'other_host_presigned') res.writeHead(302, { location: `${otherHost}/cdn/${id}?sig=${stored.sig}` }).end();
    else if (redirect === 'other_host_needs_token') res.writeHead(302, { location: `${otherHost}/files-origin/${TEAM_ID}-${id}/x` }).end();
    else sendFileBody(res, id, stored.spec);
    return true;
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && serveFile(req, res, url)) return;
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      const raw = await readBody(req);
      responses.push({ url: `${baseUrl}${url.pathname}`, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      const raw = await readBody(req);
      const params = parseParams(req.headers['content-type'], raw);
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof params.token === 'string' ? params.token : undefined;
      delete params.token;
      calls.push({ method, params, token, at: Date.now() });
      const delayMs = delays.get(method);
      if (delayMs) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            delayTimers.delete(timer);
            resolve();
          }, delayMs);
          delayTimers.add(timer);
        });
      }
      const queue = faults.get(method);
      const fault = queue?.shift();
      if (queue && queue.length === 0) faults.delete(method);
      const retryAfter = tiers.check(method, params, Date.now());
      if (retryAfter !== undefined) {
        json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
        return;
      }
      if (fault) {
        if ('rateLimitedSeconds' in fault) {
          tiers.count(method);
          json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.rateLimitedSeconds) });
        } else {
          json(res, 200, { ok: false, error: fault.error });
        }
        return;
      }
      // Slack names the token's scopes on its responses; `doctor` reads them from auth.test.
      const scopeHeader: Record<string, string> = token === BOT_TOKEN ? { 'x-oauth-scopes': granted.join(',') } : {};
      json(res, 200, api(method, params, token), scopeHeader);
      return;
    }
    res.writeHead(404).end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!(req.url ?? '').startsWith('/link')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => {
        let msg: { envelope_id?: string; payload?: unknown };
        try {
          msg = JSON.parse(String(data));
        } catch {
          return;
        }
        if (msg.envelope_id) pendingAcks.get(msg.envelope_id)?.(msg.payload);
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: wss.clients.size,
          debug_info: { host: 'applink-fake-1', build_number: 1, approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0APP' },
        }),
      );
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Sends one Socket Mode envelope and waits for its ack (whose payload is the bot's reply, for commands). */
  async function sendEnvelope(type: string, payload: unknown, opts: { retryAttempt?: number; timeoutMs?: number }) {
    const open = [...wss.clients].filter((c: WebSocket) => c.readyState === c.OPEN);
    const ws = open[0];
    if (!ws) throw new Error('no Socket Mode connection');
    const envelopeId = randomUUID();
    const started = performance.now();
    const acked = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        pendingAcks.delete(envelopeId);
        reject(new Error(`no ack for envelope ${envelopeId}`));
      }, opts.timeoutMs ?? 3000);
      pendingAcks.set(envelopeId, (p) => {
        clearTimeout(timer);
        pendingAcks.delete(envelopeId);
        resolve(p);
      });
    });
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        accepts_response_payload: type !== 'events_api',
        ...(type === 'events_api' ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryAttempt ? 'timeout' : '' } : {}),
        payload,
      }),
    );
    const ackPayload = await acked;
    return { ackMs: performance.now() - started, payload: ackPayload };
  }

  async function signedPost(url: string, raw: string, contentType: string) {
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signSlackRequest(SIGNING_SECRET, timestamp, raw),
      },
      body: raw,
    });
    return { status: res.status, ms: performance.now() - started, body: await res.text() };
  }

  /** An interactive payload, as Slack sends one in each mode; `body` is the acknowledgement's payload, if any. */
  async function sendInteractive(target: { mode: 'socket' } | { mode: 'http'; url: string }, payload: Record<string, unknown>) {
    if (target.mode === 'socket') {
      const r = await sendEnvelope('interactive', payload, {});
      return { ackMs: r.ackMs, body: (r.payload ?? {}) as Record<string, unknown> };
    }
    const r = await signedPost(target.url, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
    return { ackMs: r.ms, status: r.status, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
  }

  const fake: FakeSlack = {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    calls,
    messages,
    postAsUser(m) {
      const msg: FakeMessage = {
        channel: m.channel,
        ts: nextTs(),
        thread_ts: m.thread_ts,
        user: m.user,
        bot_id: m.bot_id,
        text: m.text,
        markdown: false,
        edits: 0,
        ...(m.files ? { files: m.files } : {}),
      };
      store(msg);
      return msg;
    },
    thread,
    botReplies(channel, threadTs) {
      return thread(channel, threadTs).filter((m) => m.bot_id === BOT_ID && m.ts !== threadTs);
    },
    failNext(method, fault, times = 1) {
      const q = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) q.push(fault);
      faults.set(method, q);
    },
    setRateLimit(method, limit) {
      tiers.set(method, limit);
    },
    enforceTiers(on = true) {
      for (const [method, limit] of Object.entries(SLACK_TIERS)) tiers.set(method, on ? limit : undefined);
    },
    rateLimited: tiers.limited,
    stopStreamAsUser(channel, ts) {
      streams.stopByUser(channel, ts);
    },
    endStream(channel, ts) {
      streams.end(channel, ts);
    },
    setStreamLifetime(ms) {
      streams.lifetimeMs = ms;
    },
    deleteMessage(channel, ts) {
      const m = find(channel, ts);
      if (m) m.deleted = true;
    },
    setChannelGone(channel, error = 'channel_not_found') {
      goneChannels.set(channel, error);
    },
    setUserName(user, name) {
      userNames.set(user, name);
    },
    setUserKind(user, kind) {
      userKinds.set(user, kind);
    },
    setUsergroup(group, members) {
      usergroups.set(group, members);
    },
    ephemerals,
    homeViews,
    eventFor(m, type, extra = {}) {
      eventCounter += 1;
      const isIm = m.channel.startsWith('D');
      return {
        token: 'legacy-verification-token',
        team_id: TEAM_ID,
        api_app_id: 'A0APP',
        type: 'event_callback',
        event_id: `Ev${String(eventCounter).padStart(6, '0')}`,
        event_time: Math.floor(Date.now() / 1000),
        event: {
          type,
          user: m.user,
          text: m.text,
          ts: m.ts,
          ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
          channel: m.channel,
          event_ts: m.ts,
          ...(type === 'message' ? { channel_type: isIm ? 'im' : m.channel.startsWith('G') ? 'group' : 'channel' } : {}),
          ...(m.thread_ts && m.thread_ts !== m.ts ? { parent_user_id: find(m.channel, m.thread_ts)?.user } : {}),
          ...(m.bot_id ? { bot_id: m.bot_id } : {}),
          ...(m.files ? { files: m.files, ...(type === 'message' ? { subtype: 'file_share' } : {}) } : {}),
          team: TEAM_ID,
          ...extra,
        },
        authorizations: [{ enterprise_id: null, team_id: TEAM_ID, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      };
    },
    async sendHttpEvent(url, body, opts = {}) {
      assertSubscribed(body);
      const raw = JSON.stringify(body);
      const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
      const signature = opts.signature ?? signSlackRequest(opts.secret ?? SIGNING_SECRET, timestamp, raw);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signature,
      };
      if (opts.retryNum !== undefined) {
        headers['x-slack-retry-num'] = String(opts.retryNum);
        headers['x-slack-retry-reason'] = 'http_timeout';
      }
      const started = performance.now();
      const res = await fetch(url, { method: 'POST', headers, body: raw });
      const text = await res.text();
      return { status: res.status, ms: performance.now() - started, body: text };
    },
    async sendSocketEvent(body, opts = {}) {
      assertSubscribed(body);
      const { ackMs } = await sendEnvelope('events_api', body, opts);
      return { ackMs };
    },
    async sendSlashCommand(target, c) {
      const payload: Record<string, string> = {
        token: 'legacy',
        team_id: TEAM_ID,
        team_domain: 'fake',
        channel_id: c.channel ?? 'C0CHAN',
        channel_name: 'general',
        user_id: c.user ?? 'U0HUMAN',
        user_name: 'ada',
        command: c.command,
        text: c.text ?? '',
        api_app_id: 'A0APP',
        response_url: `${baseUrl}/respond/${randomUUID()}`,
        trigger_id: `trigger-${randomUUID()}`,
      };
      if (target.mode === 'socket') {
        const r = await sendEnvelope('slash_commands', payload, {});
        return { ackMs: r.ackMs, body: (r.payload ?? {}) as Record<string, unknown>, responseUrl: payload.response_url as string };
      }
      const raw = new URLSearchParams(payload).toString();
      const r = await signedPost(target.url, raw, 'application/x-www-form-urlencoded');
      return { ackMs: r.ms, status: r.status, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {}, responseUrl: payload.response_url as string };
    },
    async sendAction(target, a) {
      const payload = {
        type: 'block_actions',
        team: { id: TEAM_ID, domain: 'fake' },
        user: { id: a.user ?? 'U0HUMAN', username: 'ada', team_id: TEAM_ID },
        api_app_id: 'A0APP',
        token: 'legacy',
        trigger_id: `trigger-${randomUUID()}`,
        container: { type: 'message', message_ts: a.messageTs ?? '', channel_id: a.channel ?? 'C0CHAN', is_ephemeral: false },
        channel: { id: a.channel ?? 'C0CHAN', name: 'general' },
        message: a.messageTs ? { type: 'message', ts: a.messageTs, text: '' } : undefined,
        response_url: `${baseUrl}/respond/${randomUUID()}`,
        actions: [actionPayload(a)],
      };
      if (target.mode === 'socket') {
        const r = await sendEnvelope('interactive', payload, {});
        return { ackMs: r.ackMs, responseUrl: payload.response_url };
      }
      const raw = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const r = await signedPost(target.url, raw, 'application/x-www-form-urlencoded');
      return { ackMs: r.ms, status: r.status, responseUrl: payload.response_url };
    },
    async sendShortcut(target, s) {
      assertShortcut(s.callbackId, granted);
      const user = s.user ?? 'U0HUMAN';
      const m = s.message;
      const actionTs = nextTs();
      const payload = {
        type: 'message_action',
        token: 'legacy',
        action_ts: actionTs,
        team: { id: TEAM_ID, domain: 'fake' },
        user: { id: user, username: 'ada', name: 'ada', team_id: TEAM_ID },
        channel: { id: m.channel, name: 'general' },
        is_enterprise_install: false,
        enterprise: null,
        callback_id: s.callbackId,
        trigger_id: modals.trigger(user),
        response_url: `${baseUrl}/respond/${randomUUID()}`,
        message_ts: m.ts,
        message: { type: 'message', user: m.user, ts: m.ts, text: m.text, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ...(m.bot_id ? { bot_id: m.bot_id } : {}) },
      };
      const r = await sendInteractive(target, payload);
      return { ackMs: r.ackMs, status: r.status, responseUrl: payload.response_url, actionTs, triggerId: payload.trigger_id };
    },
    views: modals.views,
    async submitView(target, view, values) {
      return sendInteractive(target, viewSubmissionPayload(view, values, TEAM_ID));
    },
    responses,
    assistant,
    socketConnections() {
      return [...wss.clients].filter((c) => c.readyState === c.OPEN).length;
    },
    async waitForSocket(count = 1, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (fake.socketConnections() < count) {
        if (Date.now() > until) throw new Error('Socket Mode client did not connect');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    callsOf(method) {
      return calls.filter((c) => c.method === method);
    },
    delayMethod(method, delayMs) {
      if (delayMs > 0) delays.set(method, delayMs);
      else delays.delete(method);
    },
    dropSocketConnections() {
      const open = [...wss.clients].filter((c) => c.readyState === c.OPEN);
      for (const c of open) c.terminate();
      return open.length;
    },
    setGrantedScopes(scopes) {
      granted = [...scopes];
    },
    addFile(spec) {
      fileCounter += 1;
      const id = `F${String(fileCounter).padStart(8, '0')}`;
      const length = typeof spec.content === 'string' ? Buffer.byteLength(spec.content) : spec.content instanceof Uint8Array ? spec.content.byteLength : 10 * 1024 * 1024;
      const path = `/files-pri/${TEAM_ID}-${id}`;
      const file: Record<string, unknown> = {
        id,
        created: Math.floor(Date.now() / 1000),
        name: spec.name,
        title: spec.name,
        mimetype: spec.mimetype,
        filetype: spec.filetype ?? spec.name.split('.').pop() ?? 'text',
        user: 'U0HUMAN',
        mode: spec.mode ?? 'hosted',
        size: spec.size ?? length,
        is_external: spec.mode === 'external',
        ...(spec.mode === 'external'
          ? { url_private: 'https://docs.example.com/d/abc', external_type: 'gdrive' }
          : { url_private: `${baseUrl}${path}/${encodeURIComponent(spec.name)}`, url_private_download: `${baseUrl}${path}/download/${encodeURIComponent(spec.name)}` }),
        file_access: 'visible',
      };
      files.set(id, { spec, file, sig: randomUUID() });
      const shared = spec.connect ? { id, mode: 'file_access', file_access: 'check_file_info', created: 0, timestamp: 0, user: 'U0HUMAN' } : file;
      return { file, shared };
    },
    deleteFile(id) {
      const stored = files.get(id);
      if (stored) stored.deleted = true;
    },
    fileRequests,
    endlessBytesSent,
    async close() {
      for (const t of delayTimers) clearTimeout(t);
      for (const c of wss.clients) c.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return fake;
}
