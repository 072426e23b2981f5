/**
 * The fake Slack's AI-app methods (slack.md §2.2–§2.3): assistant.threads.setStatus,
 * setSuggestedPrompts and setTitle, with the checks Slack makes and the
 * failures a test can ask for. slack.ts routes these methods here.
 */

/** Slack clears a thread status two minutes after it was set if no message is sent. */
export const STATUS_TIMEOUT_MS = 120_000;

export interface StatusCall {
  channel: string;
  threadTs: string;
  status: string;
  loading?: string[];
  at: number;
}

export interface SuggestedPrompts {
  channel: string;
  threadTs?: string;
  title?: string;
  prompts: { title: string; message: string }[];
}

export interface FakeAssistant {
  /** Every setStatus call, in order. */
  statusCalls: StatusCall[];
  statusCallsIn(channel: string, threadTs: string): StatusCall[];
  suggestedPrompts: SuggestedPrompts[];
  titles: Map<string, string>;
  /** As an app not configured as an agent: setSuggestedPrompts and setTitle answer `not_agent_app`. */
  setAgentApp(on: boolean): void;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function parseJsonArray(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    const parsed = JSON.parse(v);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function createFakeAssistant(): FakeAssistant & { handle(method: string, params: Record<string, unknown>): Record<string, unknown> | undefined } {
  const statusCalls: StatusCall[] = [];
  const suggestedPrompts: SuggestedPrompts[] = [];
  const titles = new Map<string, string>();
  let agentApp = true;
  return {
    statusCalls,
    suggestedPrompts,
    titles,
    statusCallsIn: (channel, threadTs) => statusCalls.filter((c) => c.channel === channel && c.threadTs === threadTs),
    setAgentApp(on) {
      agentApp = on;
    },
    handle(method, params) {
      const channel = str(params.channel_id);
      const threadTs = str(params.thread_ts);
      switch (method) {
        case 'assistant.threads.setStatus': {
          const status = str(params.status);
          if (!channel || !threadTs || status === undefined) return { ok: false, error: 'invalid_arguments' };
          const loading = params.loading_messages === undefined ? undefined : parseJsonArray(params.loading_messages);
          if (loading !== undefined && (loading.length > 10 || loading.some((l) => typeof l !== 'string'))) return { ok: false, error: 'invalid_arguments' };
          statusCalls.push({ channel, threadTs, status, ...(loading ? { loading: loading as string[] } : {}), at: Date.now() });
          return { ok: true };
        }
        case 'assistant.threads.setSuggestedPrompts': {
          if (!agentApp) return { ok: false, error: 'not_agent_app' };
          const prompts = parseJsonArray(params.prompts);
          if (!channel || !prompts || prompts.length < 1 || prompts.length > 4) return { ok: false, error: 'invalid_arguments' };
          suggestedPrompts.push({ channel, ...(threadTs ? { threadTs } : {}), ...(str(params.title) ? { title: str(params.title) } : {}), prompts: prompts as SuggestedPrompts['prompts'] });
          return { ok: true };
        }
        case 'assistant.threads.setTitle': {
          if (!agentApp) return { ok: false, error: 'not_agent_app' };
          const title = str(params.title);
          if (!channel || !threadTs || !title) return { ok: false, error: 'invalid_arguments' };
          titles.set(`${channel}/${threadTs}`, title);
          return { ok: true };
        }
        default:
          return undefined;
      }
    },
  };
}
