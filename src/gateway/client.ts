/**
 * The inference gateway client: model list, model status, and streamed chat.
 * Chat goes through the `openai` client (the gateway speaks OpenAI's chat
 * API); its errors are translated once, here, into MetisError.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { MetisError } from '../errors.ts';
import {
  IN_BAND_ERROR_ID,
  IN_BAND_ERROR_PREFIX,
  translateGatewayFailure,
  translateInBandError,
} from './errors.ts';
import { type ModelDetails, parseModelDetails } from './model-details.ts';

export type { ModelDetails } from './model-details.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One model as Metis lists it; status words are the ones ALCF's web UI uses. */
export type ModelStatus = 'Live' | 'Starting' | 'Queued' | 'Offline';

export interface ModelJob {
  status: ModelStatus;
  description?: string;
}

export interface ClusterModels {
  framework: string;
  models: string[];
}

/** `reasoning`: a model's chain of thought sent apart from its answer (`reasoning_content`); never shown. */
export type ChatEvent = { type: 'text'; text: string } | { type: 'reasoning'; text: string } | { type: 'usage'; promptTokens: number; completionTokens: number };

/** An APIError that keeps the gateway's whole body, whatever its envelope. */
class GatewayStatusError extends APIError {
  constructor(
    status: number | undefined,
    readonly body: unknown,
    message: string | undefined,
    headers: Headers | undefined,
  ) {
    super(status, undefined, message, headers);
  }
}

class GatewayOpenAI extends OpenAI {
  protected override makeStatusError(
    status: number,
    error: object | undefined,
    message: string | undefined,
    headers: Headers,
  ): APIError {
    return new GatewayStatusError(status, error ?? message, message, headers);
  }
}

export interface GatewayClientOptions {
  /** Gateway root, e.g. https://inference-api.alcf.anl.gov/resource_server */
  baseUrl: string;
  cluster: string;
  /** Time allowed for list-endpoints and jobs answers. */
  requestTimeoutMs?: number;
  /** Waits until one more request fits the fleet's budget for the gateway. */
  beforeRequest?: () => Promise<void>;
  /** The HTTP client (the global fetch when absent). */
  fetch?: typeof globalThis.fetch;
}

export class GatewayClient {
  private readonly openaiByFramework = new Map<string, OpenAI>();

  constructor(private readonly options: GatewayClientOptions) {}

  private openai(framework: string): OpenAI {
    let client = this.openaiByFramework.get(framework);
    if (!client) {
      client = new GatewayOpenAI({
        apiKey: 'set-per-request',
        baseURL: `${this.options.baseUrl}/${this.options.cluster}/${framework}/v1`,
        maxRetries: 0, // retries are ours: the queue decides, with the user kept informed
        logLevel: 'off',
        fetch: this.options.fetch,
      });
      this.openaiByFramework.set(framework, client);
    }
    return client;
  }

  private async getJson(path: string, token: string): Promise<unknown>;
  private async getJson(path: string, token: string, opts: { missing: 'undefined' }): Promise<unknown | undefined>;
  private async getJson(path: string, token: string, opts?: { missing: 'undefined' }): Promise<unknown> {
    await this.options.beforeRequest?.();
    let res: Response;
    try {
      res = await (this.options.fetch ?? fetch)(`${this.options.baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new MetisError(timedOut ? 'gateway_timeout' : 'gateway_unavailable', `GET ${path} failed: ${String(err)}`, {}, true, {
        cause: err,
      });
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // HTML error pages and plain text stay as text.
    }
    if (res.status === 404 && opts?.missing === 'undefined') return undefined;
    if (!res.ok) throw translateGatewayFailure({ status: res.status, body });
    if (typeof body !== 'object' || body === null)
      throw new MetisError('gateway_unavailable', `GET ${path} answered ${res.status} with a non-JSON body`, {}, true);
    return body;
  }

  /** Who the gateway thinks the token belongs to (GET /whoami). */
  async whoami(token: string): Promise<{ username?: string; name?: string }> {
    const body = (await this.getJson('/whoami', token)) as { username?: unknown; name?: unknown };
    return {
      username: typeof body.username === 'string' ? body.username : undefined,
      name: typeof body.name === 'string' ? body.name : undefined,
    };
  }

  /** The models this account may use on the cluster (GET /list-endpoints). */
  async listModels(token: string): Promise<ClusterModels> {
    const body = (await this.getJson('/list-endpoints', token)) as {
      clusters?: Record<string, { frameworks?: Record<string, { models?: unknown }> }>;
    };
    const cluster = body.clusters?.[this.options.cluster];
    if (!cluster?.frameworks) return { framework: 'api', models: [] };
    const [framework, summary] = Object.entries(cluster.frameworks)[0] ?? ['api', { models: [] }];
    const models = Array.isArray(summary?.models) ? summary.models.filter((m): m is string => typeof m === 'string') : [];
    return { framework, models };
  }

  /**
   * What each model accepts (GET /{cluster}/models, §2.4), keyed by model
   * name. The route is newer than the gateway's main branch, so a 404 (the
   * HTML page of a gateway without it, or JSON) answers "unknown".
   */
  async models(token: string): Promise<Map<string, ModelDetails> | 'unknown'> {
    const body = await this.getJson(`/${this.options.cluster}/models`, token, { missing: 'undefined' });
    return body === undefined ? 'unknown' : parseModelDetails(body, this.options.cluster);
  }

  /**
   * Each model's status (GET /{cluster}/jobs), in the four words ALCF's web
   * UI uses: running → Live; stopped → Offline. The gateway files every other
   * status under `queued` and keeps the real one in "Model Status", so a
   * queued entry is Starting or Queued only when it says so, and otherwise
   * (offline, maintenance, unknown…) Offline. A listed model absent from jobs
   * is Offline.
   */
  async modelStatuses(token: string): Promise<Map<string, ModelJob>> {
    const body = (await this.getJson(`/${this.options.cluster}/jobs`, token)) as Record<string, unknown>;
    const out = new Map<string, ModelJob>();
    const entries = (key: string) => (Array.isArray(body[key]) ? (body[key] as Record<string, unknown>[]) : []);
    const add = (job: Record<string, unknown>, status: ModelStatus) => {
      const names = typeof job.Models === 'string' ? job.Models.split(',').map((n) => n.trim()).filter(Boolean) : [];
      for (const name of names) {
        if (out.has(name)) continue;
        // "Description" is "<model> - <description>"; keep the description only.
        const raw = typeof job.Description === 'string' ? job.Description : '';
        const description = raw.startsWith(`${name} - `) ? raw.slice(name.length + 3).trim() : raw.trim();
        out.set(name, { status, ...(description ? { description } : {}) });
      }
    };
    for (const job of entries('running')) add(job, 'Live');
    for (const job of entries('queued')) add(job, queuedStatus(job['Model Status']));
    for (const job of entries('stopped')) add(job, 'Offline');
    return out;
  }

  /** Whether the cluster is up (GET /status, no token): false while under maintenance. */
  async clusterUp(): Promise<boolean | undefined> {
    try {
      const res = await fetch(`${this.options.baseUrl}/status`, { signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000) });
      if (!res.ok) return undefined;
      const body = (await res.json()) as Record<string, unknown>;
      return typeof body[this.options.cluster] === 'boolean' ? (body[this.options.cluster] as boolean) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Streams one chat completion. Yields text deltas and the usage report;
   * throws MetisError for every failure, including the in-band error chunk
   * the gateway sends inside a 200 stream and a stream that stalls.
   */
  async *streamChat(args: {
    token: string;
    framework: string;
    model: string;
    messages: ChatMessage[];
    idleTimeoutMs: number;
    signal?: AbortSignal;
  }): AsyncGenerator<ChatEvent> {
    const controller = new AbortController();
    let idleTimer: NodeJS.Timeout | undefined;
    let stalled = false;
    // One timer per stream, restarted on each chunk (refresh() allocates nothing; a slow stream sends thousands).
    const armIdle = () => {
      if (idleTimer) {
        idleTimer.refresh();
        return;
      }
      idleTimer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, args.idleTimeoutMs);
    };
    const onOuterAbort = () => controller.abort();
    args.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let sawDone = false;
    const stallError = () =>
      new MetisError('gateway_timeout', `no data from the gateway for ${args.idleTimeoutMs} ms`, { model: args.model }, true);
    await this.options.beforeRequest?.();
    try {
      armIdle();
      const stream = await this.openai(args.framework).chat.completions.create(
        {
          model: args.model,
          messages: args.messages,
          stream: true,
          stream_options: { include_usage: true },
        },
        {
          headers: { Authorization: `Bearer ${args.token}` },
          signal: controller.signal,
          timeout: args.idleTimeoutMs,
        },
      );
      for await (const chunk of stream) {
        armIdle();
        const choice = chunk.choices?.[0];
        const content = choice?.delta?.content;
        if (typeof content === 'string' && content.length > 0) {
          if (chunk.id === IN_BAND_ERROR_ID || content.startsWith(IN_BAND_ERROR_PREFIX)) {
            throw translateInBandError(content, args.model);
          }
          yield { type: 'text', text: content };
        }
        // Reasoning models behind OpenAI-compatible servers (vLLM, SambaNova) stream their thinking apart.
        const reasoning = (choice?.delta as { reasoning_content?: unknown } | undefined)?.reasoning_content;
        if (typeof reasoning === 'string' && reasoning.length > 0) yield { type: 'reasoning', text: reasoning };
        if (chunk.usage) {
          yield {
            type: 'usage',
            promptTokens: chunk.usage.prompt_tokens ?? 0,
            completionTokens: chunk.usage.completion_tokens ?? 0,
          };
        }
        if (choice?.finish_reason) sawDone = true;
      }
      // The openai stream ends quietly when aborted, so a stall or a deadline shows up here.
      if (stalled) throw stallError();
      if (args.signal?.aborted) throw args.signal.reason ?? new Error('aborted');
      if (!sawDone) throw new MetisError('stream_dropped', 'stream ended without a finish reason', { model: args.model }, true);
    } catch (err) {
      if (err instanceof MetisError) throw err;
      if (stalled) throw stallError();
      if (err instanceof APIUserAbortError || args.signal?.aborted) throw err;
      throw translateOpenAIError(err, args.model);
    } finally {
      clearTimeout(idleTimer);
      args.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

/** The word for a `queued` jobs entry, from the real status the gateway keeps in "Model Status". */
function queuedStatus(modelStatus: unknown): ModelStatus {
  const raw = String(modelStatus ?? '').trim().toLowerCase();
  if (raw === 'starting') return 'Starting';
  if (raw === 'queued') return 'Queued';
  return 'Offline';
}

function translateOpenAIError(err: unknown, model: string): MetisError {
  if (err instanceof GatewayStatusError && err.status !== undefined) {
    return translateGatewayFailure({ status: err.status, body: err.body, model });
  }
  if (err instanceof APIConnectionTimeoutError)
    return new MetisError('gateway_timeout', 'gateway did not answer in time', { model }, true, { cause: err });
  if (err instanceof APIConnectionError)
    return new MetisError('gateway_unavailable', `cannot reach the gateway: ${err.message}`, { model }, true, { cause: err });
  if (err instanceof SyntaxError)
    return new MetisError('stream_dropped', `garbled stream from the gateway: ${err.message}`, { model }, true, { cause: err });
  if (err instanceof APIError)
    return new MetisError('stream_dropped', `gateway stream failed: ${err.message}`, { model }, true, { cause: err });
  return new MetisError('stream_dropped', `gateway stream failed: ${String(err)}`, { model }, true, { cause: err });
}
