/**
 * The fake Slack's native streams and rate tiers (slack.md §2.3–§2.4, §3.2),
 * kept apart from slack.ts, which calls in here.
 *
 * Streams: chat.startStream posts a message in streaming state (in a channel
 * thread it needs `recipient_user_id` and `recipient_team_id`);
 * chat.appendStream adds `markdown_text`; chat.stopStream adds the last of it
 * and ends the stream. A stream ends by itself after `lifetimeMs` (Slack:
 * about 5 minutes) or when a test ends it (`end`), after which appends and
 * stops answer `message_not_in_streaming_state`; a deleted message answers
 * `message_not_found`; chat.update on a streaming message answers
 * `streaming_state_conflict`; mixing `markdown_text` and `chunks` answers
 * `streaming_mode_mismatch`; past 12,000 characters, `msg_too_long`.
 *
 * Tiers: per method and workspace, at most `perMinute` calls in any rolling
 * minute (a burst of them at once is allowed, as Slack allows short bursts);
 * chat.postMessage about one a second per channel (3 in any 3 s). Past that, 429 with
 * Retry-After until the oldest call leaves the window.
 */

const MARKDOWN_LIMIT = 12_000;

export interface StreamedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  markdown: boolean;
  streaming?: boolean;
  /** When the stream started, on the fake's clock. */
  streamStartedAt?: number;
  /** The stream carried `chunks` rather than `markdown_text`. */
  streamMode?: 'markdown' | 'chunks';
  metadata?: { event_type: string; event_payload?: Record<string, unknown> };
  recipient?: { user?: string; team?: string };
  deleted?: boolean;
  /** The person pressed Slack's stop on the stream. */
  stoppedByUser?: boolean;
  blocks?: Record<string, unknown>[];
  fallback?: string;
}

export interface StreamHost<M extends StreamedMessage> {
  /** Stores a new bot message, completing the fields only slack.ts knows. */
  post(m: Omit<StreamedMessage, 'ts'>): M;
  find(channel: string, ts: string): M | undefined;
  now(): number;
}

export class FakeStreams<M extends StreamedMessage> {
  /** Slack closes a stream on its own after about five minutes. */
  lifetimeMs = 5 * 60_000;

  constructor(private readonly host: StreamHost<M>) {}

  /** As Slack does after its (undocumented) timeout: the stream ends, the message stays. */
  end(channel: string, ts: string): void {
    const m = this.host.find(channel, ts);
    if (m) m.streaming = false;
  }

  /** As a person pressing Slack's own stop on a stream: the next append or stop answers `stopped_by_user`. */
  stopByUser(channel: string, ts: string): void {
    const m = this.host.find(channel, ts);
    if (m) m.stoppedByUser = true;
  }

  private live(m: M): boolean {
    if (m.streaming && this.host.now() - (m.streamStartedAt ?? 0) > this.lifetimeMs) m.streaming = false;
    return m.streaming === true;
  }

  /** chat.update refuses a message that is still streaming. */
  refusesUpdate(m: M): boolean {
    return this.live(m);
  }

  handle(method: string, params: Record<string, unknown>): Record<string, unknown> | undefined {
    const channel = typeof params.channel === 'string' ? params.channel : undefined;
    if (!['chat.startStream', 'chat.appendStream', 'chat.stopStream'].includes(method)) return undefined;
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const md = params.markdown_text;
    const mode = params.chunks !== undefined ? 'chunks' : md !== undefined ? 'markdown' : undefined;
    if (md !== undefined && params.chunks !== undefined) return { ok: false, error: 'streaming_mode_mismatch' };
    if (typeof md === 'string' && md.length > MARKDOWN_LIMIT) return { ok: false, error: 'msg_too_long' };
    if (method === 'chat.startStream') {
      const threadTs = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
      if (!threadTs) return { ok: false, error: 'invalid_arguments' };
      if (!channel.startsWith('D')) {
        if (typeof params.recipient_user_id !== 'string') return { ok: false, error: 'missing_recipient_user_id' };
        if (typeof params.recipient_team_id !== 'string') return { ok: false, error: 'missing_recipient_team_id' };
      }
      const m = this.host.post({
        channel,
        thread_ts: threadTs,
        text: typeof md === 'string' ? md : '',
        markdown: true,
        streaming: true,
        streamStartedAt: this.host.now(),
        ...(mode ? { streamMode: mode } : {}),
        recipient: { user: params.recipient_user_id as string | undefined, team: params.recipient_team_id as string | undefined },
      });
      return { ok: true, channel, ts: m.ts };
    }
    const m = typeof params.ts === 'string' ? this.host.find(channel, params.ts) : undefined;
    if (!m) return { ok: false, error: 'message_not_found' };
    if (m.stoppedByUser && m.streaming) {
      m.streaming = false;
      return { ok: false, error: 'stopped_by_user' };
    }
    if (!this.live(m)) return { ok: false, error: 'message_not_in_streaming_state' };
    if (mode && m.streamMode && mode !== m.streamMode) return { ok: false, error: 'streaming_mode_mismatch' };
    if (method === 'chat.appendStream' && md === undefined && params.chunks === undefined) return { ok: false, error: 'invalid_arguments' };
    if (typeof md === 'string' && m.text.length + md.length > MARKDOWN_LIMIT) return { ok: false, error: 'msg_too_long' };
    if (mode) m.streamMode = mode;
    if (typeof md === 'string') m.text += md;
    if (method === 'chat.stopStream') {
      m.streaming = false;
      if (params.metadata) m.metadata = params.metadata as M['metadata'];
      // Blocks given at the stop (feedback buttons, say) follow the streamed text, which reads as a markdown block.
      const blocks = typeof params.blocks === 'string' ? (JSON.parse(params.blocks) as Record<string, unknown>[]) : (params.blocks as Record<string, unknown>[] | undefined);
      if (blocks?.length) {
        m.blocks = [{ type: 'markdown', text: m.text }, ...blocks];
        m.fallback = m.text;
      }
    }
    return { ok: true, channel, ts: m.ts };
  }
}

/** A limit on one method: `perMinute` calls per window (a minute unless `windowMs`), per workspace or per channel. */
export interface TierLimit {
  perMinute: number;
  /** Fixed Retry-After; unset: until the oldest call in the window leaves it. */
  retryAfterSeconds?: number;
  windowMs?: number;
  perChannel?: boolean;
}

/** Slack's tiers for the methods an answer uses (slack.md §2.3): per method and workspace; posts per channel. */
export const SLACK_TIERS: Record<string, TierLimit> = {
  'chat.startStream': { perMinute: 20 },
  'chat.stopStream': { perMinute: 20 },
  'chat.appendStream': { perMinute: 100 },
  'chat.update': { perMinute: 50 },
  'chat.delete': { perMinute: 50 },
  // "1 message per second to a specific channel, with short bursts above 1 allowed": 3 in any 3 s.
  'chat.postMessage': { perMinute: 3, windowMs: 3000, perChannel: true },
};

export class TierLimiter {
  private readonly limits = new Map<string, TierLimit & { served: Map<string, number[]> }>();
  /** 429s answered, by method. */
  readonly limited = new Map<string, number>();

  set(method: string, limit: TierLimit | undefined): void {
    if (limit) this.limits.set(method, { ...limit, served: new Map() });
    else this.limits.delete(method);
  }

  /** Counts the call, or returns the Retry-After (seconds) of the 429 it gets instead. */
  check(method: string, params: Record<string, unknown>, now: number): number | undefined {
    const tier = this.limits.get(method);
    if (!tier) return undefined;
    const window = tier.windowMs ?? 60_000;
    const key = tier.perChannel ? String(params.channel ?? '') : '';
    const served = tier.served.get(key) ?? [];
    tier.served.set(key, served);
    while (served.length && (served[0] as number) <= now - window) served.shift();
    if (served.length >= tier.perMinute) {
      this.count(method);
      return tier.retryAfterSeconds ?? Math.max(1, Math.ceil(((served[0] as number) + window - now) / 1000));
    }
    served.push(now);
    return undefined;
  }

  count(method: string): void {
    this.limited.set(method, (this.limited.get(method) ?? 0) + 1);
  }
}
