/**
 * A fake of ALCF's inference gateway (FIRST) as it stands in front of Metis:
 * a real HTTP server on 127.0.0.1, built on node:http alone, that answers the
 * way the gateway does. The behaviour follows shared/contracts/gateway.md;
 * "§n" below points at that document's sections.
 *
 * Why a real server rather than mocked fetch: the bot's gateway client goes
 * through the `openai` package and through fetch, and the things worth testing
 * are on the wire: status codes, odd error envelopes, SSE framing split across
 * TCP writes, streams that die or hang.
 *
 * What is emulated, in the gateway's own check order (§1.1):
 *   URL resolution (404 HTML, 405) → Bearer auth (§6.1) → body parse (400) →
 *   pydantic validation (422, §4) → cluster → maintenance → framework →
 *   endpoint → model slug lookup (§3.1) → Metis liveness (§3.2) →
 *   injected faults → the model's context window (SambaNova's
 *   context_length_exceeded, §2.4) → the SambaNova-shaped answer, streamed or
 *   not (§5).
 * Not emulated: throttles and TPM limits, batches, /docs, the 60 s caches
 * (status changes take effect at once), Globus introspection itself.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// ─── Public API ─────────────────────────────────────────────────────────────

export type RawStatus = string; // the raw Metis status page value: 'Live' | 'Stopped' | 'Starting' | anything else
export interface FakeModel {
  name: string;
  status: RawStatus;
  description?: string;
  /**
   * The model's context window in tokens (prompt + requested completion). A
   * longer request gets SambaNova's `context_length_exceeded`, relayed as the
   * gateway relays any upstream 400 (§2.4): in-band in a 200 stream, or 400
   * `internal_endpoint_error` without one. Default: no limit.
   */
  contextWindowTokens?: number;
  /**
   * What GET /{cluster}/models says of the model (§2.4): 'window' (the
   * default) gives a `capabilities` object carrying `context_window_tokens`
   * when `contextWindowTokens` is set; 'no-window' gives capabilities without
   * it (as Metis entries have been seen); 'bare' gives no capabilities at all.
   */
  details?: 'window' | 'no-window' | 'bare';
}
export interface ChatRequestRecord {
  /** The usage the answer reported, when it succeeded. */
  usage?: { promptTokens: number; completionTokens: number };
  /** When the response was complete (epoch ms). */
  finishedAt?: number;
  /** When the client hung up before the response was complete (epoch ms): a stopped answer. */
  clientClosedAt?: number;
  model: string;
  body: any;
  authorization: string | undefined;
  path: string;
  at: number;
}

/** A fault applied to the next chat request(s) (consumed FIFO, one per request). */
export type ChatFault =
  | { kind: 'status'; status: number; body: unknown; contentType?: string } // any JSON/HTML error response, sent verbatim (body string → sent raw)
  | { kind: 'in-band-error'; afterChunks: number; message?: string } // 200 stream, N normal content chunks, then the chatcmpl-api-error chunk + [DONE] exactly as §5
  | { kind: 'drop'; afterChunks: number } // stream N chunks then destroy the socket (no [DONE])
  | { kind: 'stall'; afterChunks: number } // stream N chunks then send nothing more (keep socket open until server close)
  | { kind: 'garbage' } // 200 text/event-stream with non-JSON `data:` lines
  | { kind: 'hold'; until: Promise<void> }; // the model takes its time: nothing is sent until `until` settles, then the answer as usual

export interface FakeGatewayOptions {
  models?: FakeModel[]; // default: the four models of the contract §2.3 example + gpt-oss-120b (Live)
  validTokens?: string[]; // default ['valid-token']
  cluster?: string; // default 'metis'
  framework?: string; // default 'api'
  /** Reply text for a chat request; default echoes: `You said: ${last user message content}` */
  reply?: (req: { model: string; messages: { role: string; content: unknown }[] }) => string;
  /** Reasoning streamed apart (`reasoning_content` deltas) before the answer, as vLLM's reasoning parsers send it. */
  reasoning?: (req: { model: string; messages: { role: string; content: unknown }[] }) => string | undefined;
  /** Split the SSE body into random-sized network writes (1..N bytes) to test client parsers. Default true. */
  randomSplits?: boolean;
  /** Delay between SSE writes in ms (default 0). */
  chunkDelayMs?: number;
  /** Enforce the gateway's per-user request throttle (§7.1): at most this many requests in any 1 s window. */
  requestsPerSecond?: number;
  maintenanceNotice?: string; // when set, chat → 503 cluster_under_maintenance with this message, jobs → all stopped per §2.3
  /** Serve GET /{cluster}/models (§2.4, newer than gateway HEAD). Default true; false → Django's 404 page, as HEAD answers. */
  modelsRoute?: boolean;
}

export interface FakeGateway {
  url: string; // e.g. http://127.0.0.1:PORT/resource_server  (the gateway ROOT, includes /resource_server)
  chatRequests: ChatRequestRecord[]; // every POST to chat/completions that passed auth (even if it then failed)
  requests: { method: string; path: string }[]; // every request received
  setStatus(model: string, status: RawStatus): void;
  setModels(models: FakeModel[]): void;
  /** Turns GET /{cluster}/models on or off (off: the 404 page a gateway without the route gives). */
  setModelsRoute(on: boolean): void;
  injectChatFault(fault: ChatFault): void; // queue a fault for the next chat request
  setValidTokens(tokens: string[]): void;
  /** token → kind of 401 the gateway gives, per §6.1 / §6.4: 'expired' | 'policy' | 'wrong-idp' | 'no-group' */
  setTokenProblem(token: string, problem: 'expired' | 'policy' | 'wrong-idp' | 'no-group'): void;
  /** How many requests the throttle refused with 429. */
  throttledCount(): number;
  /** The token works again (e.g. ALCF fixed the account's policy). */
  clearTokenProblem(token: string): void;
  setMaintenance(notice: string | undefined): void;
  setReply(fn: FakeGatewayOptions['reply']): void;
  setReasoning(fn: FakeGatewayOptions['reasoning']): void;
  close(): Promise<void>; // must also destroy open sockets (stalled streams) so close never hangs
}

// ─── Constants taken from the contract ──────────────────────────────────────

const PREFIX = '/resource_server';

/** The upstream URL the gateway names in its stream error chunks (§5). */
const UPSTREAM_CHAT_URL = 'https://metis.alcf.anl.gov/v1/chat/completions';

/** AUTHORIZED_IDP_DOMAINS is deployment configuration (§6.3); this is a plausible value. */
const IDP_DOMAINS = 'anl.gov, alcf.anl.gov';

/** §2.3's raw status example (four Metis-page models) plus a live gpt-oss-120b. */
const DEFAULT_MODELS: readonly FakeModel[] = [
  { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live', description: 'llama 3.3 70B' },
  { name: 'Meta-Llama-3.1-8B-Instruct', status: 'Live', description: 'llama 3.1 8B' },
  { name: 'Qwen2.5-Coder-0.5B-Instruct', status: 'Stopped', description: 'qwen coder' },
  { name: 'DeepSeek-R1', status: 'Starting', description: 'deepseek r1' },
  { name: 'gpt-oss-120b', status: 'Live', description: 'gpt oss 120b' },
];

/** §6.1 messages for tokens that introspect fine but fail a later check. */
const TOKEN_PROBLEM_MESSAGES = {
  expired: 'Token is either not active or invalid',
  policy:
    'Error: Permission denied from internal policies. This is likely due to a high-assurance timeout. ' +
    'Please logout by visiting https://app.globus.org/logout, and re-authenticate with the following command: ' +
    "'python3 inference_auth_token.py authenticate --force'. " +
    `Make sure you authenticate with an authorized identity provider: ${IDP_DOMAINS}.`,
  'wrong-idp':
    `Error: Permission denied. Must authenticate with ${IDP_DOMAINS}. ` +
    'Currently authenticated as Jane Doe (jdoe@gmail.com). ' +
    'If you are passing an access token directly to this API, ' +
    'please logout from Globus by visiting https://app.globus.org/logout ' +
    "and re-authenticate with the following command: 'python3 inference_auth_token.py authenticate --force'.",
  'no-group': 'Error: User is not a member of an allowed Globus Group.',
} as const;

/** The user /whoami reports for any valid token: a service account (§6.5). */
const SERVICE_ACCOUNT_ID = '0b4e1f0c-5a7d-4c3e-9d61-2f8a7c1e9b35';
const WHOAMI = {
  id: SERVICE_ACCOUNT_ID,
  name: 'Metis Bot',
  username: `${SERVICE_ACCOUNT_ID}@clients.auth.globus.org`,
  user_group_uuids: [] as string[],
  idp_id: 'clients.auth.globus.org',
  idp_name: 'https://auth.globus.org/',
  auth_service: 'globus',
};

/** Django's stock 404 page (DEBUG off, no 404.html): the gateway answers unknown paths with it. */
const DJANGO_404 =
  '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n' +
  '  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n';

/**
 * Sizes (in characters) of successive content deltas. Fixed rather than random
 * so usage counts are reproducible; the largest is 7, shorter than both
 * `<think>`+1 and `</think>`, so R1's tags always straddle deltas.
 */
const DELTA_SIZES = [3, 5, 2, 4, 1, 6, 7];

/** Upper bound of one random network write when randomSplits is on. */
const MAX_SPLIT_BYTES = 32;

// ─── Python-compatible serialisation ────────────────────────────────────────
// The gateway's own bodies come from Ninja's json.dumps (", " and ": "
// separators, non-ASCII escaped), while SambaNova's chunks are compact JSON.
// Keeping the two apart lets tests see exactly what a client would.

/** A number that Python holds as a float, so json.dumps prints 2.0 rather than 2. */
class PyFloat {
  constructor(readonly value: number) {}
}

function pyJson(value: unknown): string {
  if (value instanceof PyFloat) return Number.isInteger(value.value) ? `${value.value}.0` : String(value.value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return escapeNonAscii(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${escapeNonAscii(JSON.stringify(k))}: ${pyJson(v)}`);
    return `{${members.join(', ')}}`;
  }
  return 'null';
}

/** json.dumps' ensure_ascii: anything outside printable ASCII becomes \uXXXX (UTF-16 units, as Python does). */
function escapeNonAscii(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Python's repr() of a str, as in "'DeepSeek-R1' is not currently live". */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Python's repr() of the first 256 bytes of an upstream body: the b'…' in §8 messages. */
function pyBytesRepr(text: string): string {
  const bytes = Buffer.from(text, 'utf8').subarray(0, 256);
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `b${quote}${out}${quote}`;
}

/** Python's sorted() on str: by code point, so uppercase before lowercase (not UTF-16 units, not locale). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Django's slugify (allow_unicode=False), which the gateway uses to look endpoints up (§3.1). */
function slugify(value: string): string {
  const ascii = value.normalize('NFKD').replace(/[\u0080-\uffff]/g, '');
  return ascii
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .replace(/[-\s]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}

function endpointSlug(cluster: string, framework: string, model: string): string {
  return slugify(`${cluster} ${framework} ${model.toLowerCase()}`);
}

// ─── Request validation (§4): a small re-creation of the pydantic schema ────
// The real schema is pydantic with extra="forbid" everywhere; errors are
// collected (declared fields in order, then unknown keys in input order),
// and Ninja prefixes each loc with ["body", "payload"] and drops input/url.

type Loc = (string | number)[];
interface LineError {
  type: string;
  loc: Loc;
  msg: string;
  ctx?: Record<string, unknown>;
}
type Check = (value: unknown, loc: Loc, out: LineError[]) => void;

/** Raised where pydantic would let a TypeError escape: the gateway answers 500 internal_error. */
class InternalServerError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function push(out: LineError[], type: string, loc: Loc, msg: string, ctx?: Record<string, unknown>): void {
  out.push(ctx ? { type, loc, msg, ctx } : { type, loc, msg });
}

/** A ValueError raised in a validator; pydantic reports it as value_error with ctx.error. */
function valueError(out: LineError[], loc: Loc, message: string): void {
  push(out, 'value_error', loc, `Value error, ${message}`, { error: message });
}

/** Python's `key in value` for a validator's `values` argument, including its failure modes. */
function pyContains(value: unknown, key: string): boolean {
  if (isObject(value)) return key in value;
  if (typeof value === 'string') return value.includes(key);
  if (Array.isArray(value)) return value.includes(key);
  // `"role" in 5` raises TypeError, which pydantic does not catch.
  throw new InternalServerError(`argument of type '${typeof value}' is not iterable`);
}

/** Lax-mode bool coercion; undefined means "not a bool". */
function laxBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'on', 't', 'true', 'y', 'yes'].includes(s)) return true;
    if (['0', 'off', 'f', 'false', 'n', 'no'].includes(s)) return false;
  }
  return undefined;
}

function laxNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v.trim()))) return Number(v.trim());
  return undefined;
}

const str =
  (limits: { min?: number; max?: number } = {}): Check =>
  (v, loc, out) => {
    if (typeof v !== 'string') return push(out, 'string_type', loc, 'Input should be a valid string');
    const length = Array.from(v).length; // Python counts code points
    if (limits.min !== undefined && length < limits.min) {
      const unit = limits.min === 1 ? 'character' : 'characters';
      push(out, 'string_too_short', loc, `String should have at least ${limits.min} ${unit}`, { min_length: limits.min });
    } else if (limits.max !== undefined && length > limits.max) {
      const unit = limits.max === 1 ? 'character' : 'characters';
      push(out, 'string_too_long', loc, `String should have at most ${limits.max} ${unit}`, { max_length: limits.max });
    }
  };

const bool = (): Check => (v, loc, out) => {
  if (laxBool(v) !== undefined) return;
  if (typeof v === 'string' || typeof v === 'number')
    push(out, 'bool_parsing', loc, 'Input should be a valid boolean, unable to interpret input');
  else push(out, 'bool_type', loc, 'Input should be a valid boolean');
};

/** Range checks shared by int and float; floats carry float bounds in ctx, as pydantic does. */
function checkBounds(n: number, loc: Loc, out: LineError[], b: { ge?: number; le?: number }, isFloat: boolean): void {
  const bound = (x: number) => (isFloat ? new PyFloat(x) : x);
  if (b.ge !== undefined && n < b.ge)
    push(out, 'greater_than_equal', loc, `Input should be greater than or equal to ${b.ge}`, { ge: bound(b.ge) });
  else if (b.le !== undefined && n > b.le)
    push(out, 'less_than_equal', loc, `Input should be less than or equal to ${b.le}`, { le: bound(b.le) });
}

const int =
  (b: { ge?: number; le?: number } = {}): Check =>
  (v, loc, out) => {
    if (typeof v === 'string') {
      if (!/^\s*[+-]?\d+\s*$/.test(v))
        return push(out, 'int_parsing', loc, 'Input should be a valid integer, unable to parse string as an integer');
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v))
        return push(out, 'int_from_float', loc, 'Input should be a valid integer, got a number with a fractional part');
    } else if (typeof v !== 'boolean') return push(out, 'int_type', loc, 'Input should be a valid integer');
    checkBounds(laxNumber(v) ?? 0, loc, out, b, false);
  };

const float =
  (b: { ge?: number; le?: number } = {}): Check =>
  (v, loc, out) => {
    const n = laxNumber(v);
    if (n === undefined) {
      if (typeof v === 'string')
        return push(out, 'float_parsing', loc, 'Input should be a valid number, unable to parse string as a number');
      return push(out, 'float_type', loc, 'Input should be a valid number');
    }
    checkBounds(n, loc, out, b, true);
  };

/** "'a', 'b' or 'c'", pydantic's way of listing the choices of an enum. */
function expected(values: readonly string[]): string {
  const quoted = values.map((x) => `'${x}'`);
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** A str Enum field. */
const oneOf =
  (values: readonly string[]): Check =>
  (v, loc, out) => {
    if (typeof v === 'string' && values.includes(v)) return;
    push(out, 'enum', loc, `Input should be ${expected(values)}`, { expected: expected(values) });
  };

const literal =
  (value: string): Check =>
  (v, loc, out) => {
    if (v !== value) push(out, 'literal_error', loc, `Input should be ${expected([value])}`, { expected: expected([value]) });
  };

const anything: Check = () => {};

const list =
  (item: Check, limits: { min?: number; max?: number } = {}): Check =>
  (v, loc, out) => {
    if (!Array.isArray(v)) return push(out, 'list_type', loc, 'Input should be a valid list');
    // pydantic rejects an over-long list before looking at its items.
    if (limits.max !== undefined && v.length > limits.max) {
      const ctx = { field_type: 'List', max_length: limits.max, actual_length: v.length };
      return push(out, 'too_long', loc, `List should have at most ${limits.max} items after validation, not ${v.length}`, ctx);
    }
    const before = out.length;
    for (const [i, x] of v.entries()) item(x, [...loc, i], out);
    if (out.length === before && limits.min !== undefined && v.length < limits.min) {
      const ctx = { field_type: 'List', min_length: limits.min, actual_length: v.length };
      const unit = limits.min === 1 ? 'item' : 'items';
      push(out, 'too_short', loc, `List should have at least ${limits.min} ${unit} after validation, not ${v.length}`, ctx);
    }
  };

const dictOf =
  (value: Check): Check =>
  (v, loc, out) => {
    if (!isObject(v)) return push(out, 'dict_type', loc, 'Input should be a valid dictionary');
    for (const [k, x] of Object.entries(v)) value(x, [...loc, k], out);
  };

/** pydantic's smart union: passes if any member passes, else reports every member's errors under its label. */
const union =
  (members: [label: string, check: Check][]): Check =>
  (v, loc, out) => {
    const failures: LineError[] = [];
    for (const [label, check] of members) {
      const mine: LineError[] = [];
      check(v, [...loc, label], mine);
      if (mine.length === 0) return;
      failures.push(...mine);
    }
    out.push(...failures);
  };

/** Applies a check, then an AfterValidator-style function if the check passed. */
const refined =
  (check: Check, after: (v: any) => string | undefined): Check =>
  (v, loc, out) => {
    const before = out.length;
    check(v, loc, out);
    if (out.length !== before) return;
    const problem = after(v);
    if (problem) valueError(out, loc, problem);
  };

interface Field {
  check: Check;
  required?: boolean; // no default in the schema
  nullable?: boolean; // Optional[...]: an explicit null is accepted
}
const req = (check: Check): Field => ({ check, required: true });
const opt = (check: Check): Field => ({ check, nullable: true });
const withDefault = (check: Check): Field => ({ check });

/** A pydantic model with extra="forbid" and an optional mode="after" model validator. */
function model(className: string, fields: Record<string, Field>, after?: (v: Record<string, unknown>) => string | undefined): Check {
  return (v, loc, out) => {
    if (!isObject(v))
      return push(out, 'model_type', loc, `Input should be a valid dictionary or instance of ${className}`, {
        class_name: className,
      });
    const before = out.length;
    for (const [name, field] of Object.entries(fields)) {
      if (!(name in v)) {
        if (field.required) push(out, 'missing', [...loc, name], 'Field required');
        continue;
      }
      if (v[name] === null && field.nullable) continue;
      field.check(v[name], [...loc, name], out);
    }
    for (const name of Object.keys(v))
      if (!(name in fields)) push(out, 'extra_forbidden', [...loc, name], 'Extra inputs are not permitted');
    if (after && out.length === before) {
      const problem = after(v);
      if (problem) valueError(out, loc, problem);
    }
  };
}

/**
 * The schema's "router" models (Message, content items, ResponseFormat): a
 * mode="before" validator checks a discriminating key, then validates the
 * input with the matching model, whose errors surface under this loc.
 */
function routed(key: string, missingMessage: string, badValueMessage: string, routes: Record<string, Check>): Check {
  return (v, loc, out) => {
    if (!pyContains(v, key)) return valueError(out, loc, missingMessage);
    if (!isObject(v)) throw new InternalServerError(`'${typeof v}' object has no attribute 'get'`);
    const value = v[key];
    const route = typeof value === 'string' && Object.hasOwn(routes, value) ? routes[value] : undefined;
    if (!route) return valueError(out, loc, badValueMessage);
    route(v, loc, out);
  };
}

const strOrStrList = union([
  ['str', str()],
  ['list[str]', list(str())],
]);

const textPart = model('MessageTextContent', { text: req(str()), type: req(oneOf(['text'])) });

const userContentPart = routed(
  'type',
  "'type' must be provided in each user message content item.",
  "'messages-user-content-type' must be one of ['text', 'image_url', 'input_audio', 'file'].",
  {
    text: textPart,
    image_url: model('MessageImageContent', {
      image_url: req(model('MessageImageURL', { url: req(str()), detail: opt(oneOf(['low', 'high', 'auto'])) })),
      type: req(oneOf(['image_url'])),
    }),
    input_audio: model('MessageAudioContent', {
      input_audio: req(model('MessageInputAudio', { data: req(str()), format: req(oneOf(['wav', 'mp3'])) })),
      type: req(oneOf(['input_audio'])),
    }),
    file: model('MessageFileContent', {
      file: req(model('MessageFile', { file_data: opt(str()), file_id: opt(str()), filename: opt(str()) })),
      type: req(oneOf(['file'])),
    }),
  },
);

const assistantContentPart = routed(
  'type',
  "'type' must be provided in each assistant message content item.",
  "'messages-assistant-content-type' must be one of ['text', 'refusal'].",
  {
    text: textPart,
    refusal: model('MessageRefusalContent', { refusal: req(str()), type: req(oneOf(['refusal'])) }),
  },
);

const MESSAGE_ROLES = ['developer', 'system', 'user', 'assistant', 'tool'] as const;

const message = routed(
  'role',
  "'role' must be provided in each message object.",
  `'messages-role' must be one of [${MESSAGE_ROLES.map((r) => `'${r}'`).join(', ')}].`,
  {
    developer: model('DeveloperMessage', {
      content: req(strOrStrList),
      role: req(oneOf(['developer'])),
      name: opt(str()),
    }),
    system: model('SystemMessage', { content: req(strOrStrList), role: req(oneOf(['system'])), name: opt(str()) }),
    user: model('UserMessage', {
      content: req(
        union([
          ['str', str()],
          ['list[UserMessageContent]', list(userContentPart)],
        ]),
      ),
      role: req(oneOf(['user'])),
      name: opt(str()),
    }),
    assistant: model('AssistantMessage', {
      role: req(oneOf(['assistant'])),
      audio: opt(model('AssistantMessageAudio', { id: req(str()) })),
      content: opt(
        union([
          ['str', str()],
          ['list[AssistantMessageContent]', list(assistantContentPart)],
        ]),
      ),
      name: opt(str()),
      refusal: opt(str()),
      tool_calls: opt(
        list(
          model('AssistantMessageToolCalls', {
            function: req(model('ToolCallsFunction', { arguments: req(str()), name: req(str()) })),
            id: req(str()),
            type: req(oneOf(['function'])),
          }),
        ),
      ),
      reasoning: opt(str()),
      reasoning_content: opt(str()),
    }),
    tool: model('ToolMessage', { content: req(strOrStrList), role: req(oneOf(['tool'])), tool_call_id: req(str()) }),
  },
);

const responseFormat = routed('type', "'type' must be provided.", "'type' must be one of ['text', 'json_schema', 'json_object'].", {
  text: model('ResponseFormatText', { type: req(oneOf(['text'])) }),
  json_object: model('ResponseFormatJsonObject', { type: req(oneOf(['json_object'])) }),
  json_schema: model('ResponseFormatJsonSchema', {
    type: req(oneOf(['json_schema'])),
    json_schema: req(
      model('ResponseFormatJsonSchemaJsonSchema', {
        name: req(str({ max: 64 })),
        description: opt(str()),
        schema: opt(dictOf(anything)), // aliased field; populate_by_name also allows json_schema
        json_schema: opt(dictOf(anything)),
        strict: opt(bool()),
      }),
    ),
  }),
});

const tool = model('Tool', {
  function: req(
    model(
      'ToolFunction',
      { name: req(str({ max: 64 })), description: opt(str()), parameters: opt(dictOf(anything)), strict: opt(bool()) },
      (f) => {
        // Python's str.isalnum() after dropping - and _ (false for an empty name).
        const rest = String(f.name).replace(/[-_]/g, '');
        return /^[\p{L}\p{N}]+$/u.test(rest)
          ? undefined
          : "'Tolls-function-name' must Must be a-z, A-Z, 0-9, or contain underscores and dashes.";
      },
    ),
  ),
  type: req(oneOf(['function'])),
});

const chatCompletionsPayload = model(
  'OpenAIChatCompletionsPydantic',
  {
    openai_endpoint: withDefault(literal('chat/completions')),
    messages: req(list(message)),
    model: req(str({ min: 1 })),
    frequency_penalty: opt(float({ ge: -2, le: 2 })),
    logit_bias: opt(dictOf(float())),
    logprobs: opt(bool()),
    max_completion_tokens: opt(int({ ge: 0 })),
    max_tokens: opt(int({ ge: 0 })),
    metadata: opt(
      refined(dictOf(str()), (m: Record<string, string>) => {
        if (Object.keys(m).length > 16) return "'metadata' must have at most 16 key-value pairs.";
        if (Object.keys(m).some((k) => k.length > 64)) return "all 'metadata' keys must be at most 64 characters.";
        if (Object.values(m).some((x) => x.length > 512)) return "all 'metadata' values must be at most 512 characters.";
        return undefined;
      }),
    ),
    modalities: opt(list(oneOf(['text', 'audio']), { min: 1, max: 2 })),
    n: opt(int({ ge: 1, le: 128 })),
    parallel_tool_calls: opt(bool()),
    prediction: opt(
      model('Prediction', {
        content: req(
          union([
            ['str', str()],
            ['list[PredictionContent]', list(model('PredictionContent', { text: req(str()), type: req(oneOf(['text'])) }))],
          ]),
        ),
        type: req(oneOf(['content'])),
      }),
    ),
    presence_penalty: opt(float({ ge: -2, le: 2 })),
    reasoning_effort: opt(oneOf(['low', 'medium', 'high'])),
    response_format: opt(responseFormat),
    seed: opt(int()), // int64 bounds are beyond what a JS number holds exactly; not checked
    service_tier: opt(oneOf(['auto', 'default'])),
    stop: opt(
      union([
        ['str', str()],
        ['list[str]', list(str())],
      ]),
    ),
    stream: opt(bool()),
    stream_options: opt(model('StreamOptions', { include_usage: opt(bool()) })),
    store: opt(bool()),
    temperature: opt(float({ ge: 0, le: 2 })),
    tool_choice: opt(
      union([
        ['str-enum[ToolChoice]', oneOf(['none', 'auto', 'required'])],
        [
          'ToolChoiceObject',
          model('ToolChoiceObject', {
            function: req(model('ToolChoiceFunction', { name: req(str()) })),
            type: req(oneOf(['function'])),
          }),
        ],
      ]),
    ),
    tools: opt(list(tool, { max: 128 })),
    top_logprobs: opt(int({ ge: 0, le: 20 })),
    top_p: opt(float({ ge: 0, le: 1 })),
    user: opt(str()),
    web_search_options: opt(
      model('WebSearchOptions', {
        search_context_size: opt(oneOf(['low', 'medium', 'high'])),
        user_location: opt(
          model('WebSearchOptionsUserLocation', {
            approximate: req(
              model('WebSearchOptionsUserLocationApproximate', {
                city: opt(str()),
                country: opt(str()),
                region: opt(str()),
                timezone: opt(str()),
              }),
            ),
            type: req(oneOf(['approximate'])),
          }),
        ),
      }),
    ),
    extra_body: opt(model('ExtraBody', { use_beam_search: req(bool()) })),
  },
  // The schema's mode="after" checks, which run only once every field is valid.
  (p) => {
    const logprobs = p.logprobs === undefined ? false : laxBool(p.logprobs);
    if (p.top_logprobs !== undefined && p.top_logprobs !== null && logprobs === false)
      return "'logprobs' must be set to True when 'top_logprobs' is used.";
    if (isObject(p.logit_bias) && Object.values(p.logit_bias).some((b) => (laxNumber(b) ?? 0) < -100 || (laxNumber(b) ?? 0) > 100))
      return "'logit_bias' bias values must be from -100 to 100.";
    if (Array.isArray(p.stop) && (p.stop.length < 1 || p.stop.length > 4)) return "'stop' list must have between 1 to 4 items.";
    return undefined;
  },
);

/** Validates a parsed chat body; returns Ninja's 422 detail list, empty when valid. */
function validateChatPayload(body: unknown): LineError[] {
  const out: LineError[] = [];
  chatCompletionsPayload(body, ['body', 'payload'], out);
  return out;
}

/**
 * The other OpenAI routes are rejected on Metis (unsupported_endpoint) once a
 * body validates; only their required `model` is checked here, which is enough
 * to reach that rejection the way the gateway does.
 */
function validateOtherPayload(endpoint: string, body: unknown): LineError[] {
  const className =
    { completions: 'OpenAICompletionsPydantic', embeddings: 'OpenAIEmbeddingsPydantic' }[endpoint] ?? 'OpenAIResponsesPydantic';
  const out: LineError[] = [];
  const loc: Loc = ['body', 'payload'];
  if (!isObject(body))
    push(out, 'model_type', loc, `Input should be a valid dictionary or instance of ${className}`, { class_name: className });
  else if (!('model' in body)) push(out, 'missing', [...loc, 'model'], 'Field required');
  else str({ min: 1 })(body.model, [...loc, 'model'], out);
  return out;
}

// ─── Replies and SambaNova-shaped output ────────────────────────────────────

type ChatMessage = { role: string; content: unknown };

/** The text of a message's content, whether a string, a list of strings, or a list of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (typeof part === 'string' ? part : isObject(part) && typeof part.text === 'string' ? part.text : ''))
    .join(' ');
}

function defaultReply({ model, messages }: { model: string; messages: ChatMessage[] }): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const said = lastUser ? contentText(lastUser.content) : '';
  const answer = `You said: ${said}`;
  // DeepSeek-R1 on SambaNova puts its chain of thought inline in content (§9).
  if (model.includes('DeepSeek-R1'))
    return `<think>\nThe user wrote "${said}". The helpful thing is to repeat it back to them.\n</think>\n\n${answer}`;
  return answer;
}

/** Cuts the reply into content deltas of DELTA_SIZES characters (by code point, never splitting a surrogate pair). */
function splitIntoDeltas(text: string): string[] {
  const chars = Array.from(text);
  const deltas: string[] = [];
  for (let at = 0, i = 0; at < chars.length; i++) {
    const size = DELTA_SIZES[i % DELTA_SIZES.length] ?? 4;
    deltas.push(chars.slice(at, at + size).join(''));
    at += size;
  }
  return deltas;
}

/** A deterministic stand-in for a tokenizer: a quarter of the characters, rounded up. */
function countPromptTokens(messages: ChatMessage[]): number {
  const chars = messages.reduce((sum, m) => sum + Array.from(contentText(m.content)).length, 0);
  return Math.ceil(chars / 4);
}

/** SambaNova's usage object with its extras (§5). */
function sambaNovaUsage(promptTokens: number, completionTokens: number, startedAt: number): Record<string, unknown> {
  const totalLatency = 0.1229;
  return {
    completion_tokens: completionTokens,
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    is_last_response: true,
    time_to_first_token: 0.052,
    total_latency: totalLatency,
    completion_tokens_per_sec: Math.round((completionTokens / totalLatency) * 100) / 100,
    completion_tokens_after_first_per_sec: 414.06,
    completion_tokens_after_first_per_sec_first_ten: 452.95,
    total_tokens_per_sec: Math.round(((promptTokens + completionTokens) / totalLatency) * 100) / 100,
    start_time: startedAt,
    end_time: startedAt + totalLatency,
    stop_reason: 'stop',
  };
}

interface Completion {
  id: string;
  created: number;
  model: string; // echoed as the client sent it, as SambaNova does
  deltas: string[];
  /** Reasoning deltas sent as `reasoning_content` before the content. */
  reasoningDeltas?: string[];
  promptTokens: number;
  startedAt: number;
}

function streamChunk(c: Completion, choices: unknown[], extra: Record<string, unknown> = {}): string {
  // Compact JSON with SambaNova's key order: this is relayed byte for byte.
  return JSON.stringify({
    choices,
    created: c.created,
    id: c.id,
    model: c.model,
    object: 'chat.completion.chunk',
    system_fingerprint: 'fastcoe',
    ...extra,
  });
}

/** The whole successful stream, as SSE `data:` payloads, in order. */
function streamEvents(c: Completion): { role: string; contents: string[]; tail: string[] } {
  const choice = (delta: Record<string, unknown>, finish: string | null) => ({
    delta,
    finish_reason: finish,
    index: 0,
    logprobs: null,
  });
  return {
    role: streamChunk(c, [choice({ content: '', role: 'assistant' }, null)]),
    contents: [
      ...(c.reasoningDeltas ?? []).map((d) => streamChunk(c, [choice({ reasoning_content: d }, null)])),
      ...c.deltas.map((d) => streamChunk(c, [choice({ content: d }, null)])),
    ],
    tail: [
      streamChunk(c, [choice({}, 'stop')]),
      streamChunk(c, [], { usage: sambaNovaUsage(c.promptTokens, c.deltas.length, c.startedAt) }),
      '[DONE]',
    ],
  };
}

/** The non-stream body SambaNova returns, which the gateway re-encodes through Ninja (§3.1). */
function completionBody(c: Completion): Record<string, unknown> {
  return {
    choices: [{ finish_reason: 'stop', index: 0, logprobs: null, message: { content: c.deltas.join(''), role: 'assistant' } }],
    created: c.created,
    id: c.id,
    model: c.model,
    object: 'chat.completion',
    system_fingerprint: 'fastcoe',
    usage: sambaNovaUsage(c.promptTokens, c.deltas.length, c.startedAt),
  };
}

/** The gateway's own error event after an upstream failure, built with json.dumps (§5). */
function inBandErrorEvent(dbModel: string, upstreamBody: string): string {
  const content = `\n\n[ERROR] Error: Unexpected error calling stream API: Error: Could not send stream API call to ${UPSTREAM_CHAT_URL}: ${upstreamBody}`;
  return pyJson({
    id: 'chatcmpl-api-error',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: dbModel,
    choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
}

const DEFAULT_UPSTREAM_ERROR = '{"error":"upstream failure"}';

/** SambaNova's 400 body for a request longer than the model's context window (§2.4). */
function contextLengthExceededBody(model: string, windowTokens: number, requestTokens: number): string {
  return JSON.stringify({
    error: {
      message: `The maximum context length of ${model} is ${windowTokens}. However, answering your request will take ${requestTokens} tokens. Please reduce the length of the messages or the specified max_completion_tokens value.`,
      type: 'invalid_request_error',
      param: null,
      code: 'context_length_exceeded',
    },
  });
}

// ─── The server ─────────────────────────────────────────────────────────────

interface Route {
  pattern: RegExp;
  method: 'GET' | 'POST';
  handle: (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void> | void;
}

export async function startFakeGateway(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
  // Mutable state the test can steer while the server runs.
  let models: FakeModel[] = (options.models ?? DEFAULT_MODELS).map((m) => ({ ...m }));
  let validTokens = new Set(options.validTokens ?? ['valid-token']);
  const tokenProblems = new Map<string, keyof typeof TOKEN_PROBLEM_MESSAGES>();
  const requestsPerSecond = options.requestsPerSecond;
  const throttleLog = new Map<string, number[]>();
  let throttled = 0;
  let maintenanceNotice = options.maintenanceNotice;
  let reply = options.reply;
  let reasoning = options.reasoning;
  const faults: ChatFault[] = [];
  const cluster = options.cluster ?? 'metis';
  const framework = options.framework ?? 'api';
  const randomSplits = options.randomSplits ?? true;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  let modelsRoute = options.modelsRoute ?? true;

  const chatRequests: ChatRequestRecord[] = [];
  const requests: { method: string; path: string }[] = [];
  const sockets = new Set<Socket>();
  let closing = false;

  // ── Response helpers ──

  function sendRaw(res: ServerResponse, status: number, contentType: string, body: string): void {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
    res.end(bytes);
  }
  /** A Ninja JSON response: Python separators, ASCII only. */
  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    sendRaw(res, status, 'application/json; charset=utf-8', pyJson(body));
  }
  /** The gateway's own error envelope (§4.2, §4.3). */
  function sendError(res: ServerResponse, status: number, code: string, message: string, info: object = {}): void {
    sendJson(res, status, { error: { code, message, info } });
  }
  function sendInternalError(res: ServerResponse): void {
    sendJson(res, 500, { error: { code: 'internal_error', message: 'Internal Server Error', error_id: randomBytes(16).toString('hex') } });
  }
  function sendNotFound(res: ServerResponse): void {
    sendRaw(res, 404, 'text/html; charset=utf-8', DJANGO_404);
  }

  // ── Auth (§6.1) ──

  /** Returns true if the request may proceed; otherwise the 401 has been sent. */
  function authorize(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization?.trim();
    if (!header) {
      // Raised by Ninja's HttpError in GlobalAuth: the one auth error with the detail envelope.
      sendJson(res, 401, { detail: "Error: Missing ('Authorization': 'Bearer <your-access-token>') in request headers." });
      return false;
    }
    const parts = header.split(/\s+/); // Python's str.split()
    if (parts.length !== 2) {
      sendError(res, 401, 'unauthorized', 'Auth only allows header type Authorization: Bearer <token>.');
      return false;
    }
    const [scheme, token = ''] = parts;
    if (scheme !== 'Bearer') {
      // The gateway's nested except clauses re-wrap its own message.
      sendError(res, 401, 'unauthorized', 'Something went wrong while reading headers. Authorization type should be Bearer.');
      return false;
    }
    const problem = tokenProblems.get(token);
    if (problem) {
      sendError(res, 401, 'unauthorized', TOKEN_PROBLEM_MESSAGES[problem]);
      return false;
    }
    if (!validTokens.has(token)) {
      sendError(res, 401, 'unauthorized', 'Token is either not active or invalid');
      return false;
    }
    // Ninja's AuthRateThrottle (§7.1): a sliding 1 s window per user, checked right after auth; no Retry-After.
    if (requestsPerSecond !== undefined) {
      const now = Date.now();
      const window = (throttleLog.get(token) ?? []).filter((t) => now - t < 1000);
      if (window.length >= requestsPerSecond) {
        throttleLog.set(token, window);
        throttled += 1;
        sendJson(res, 429, { detail: 'Too many requests.' });
        return false;
      }
      window.push(now);
      throttleLog.set(token, window);
    }
    return true;
  }

  // ── Status views (§2) ──

  function listEndpoints(): unknown {
    const names = models.map((m) => m.name).sort(compareCodePoints);
    // A framework key appears only when at least one model is visible.
    const frameworks = names.length > 0 ? { [framework]: { models: names, endpoints: ['/v1/chat/completions'] } } : {};
    return { clusters: { [cluster]: { base_url: `${PREFIX}/${cluster}`, frameworks } } };
  }

  function jobs(): unknown {
    const empty = { running: [], queued: [], stopped: [], others: [], private_batch_running: [], private_batch_queued: [] };
    if (maintenanceNotice !== undefined) {
      // Under maintenance the gateway lists every model as stopped with the bare keys (§2.3).
      const stopped = models.map((m) => ({ Models: m.name, Framework: framework, Cluster: cluster }));
      return { ...empty, stopped, cluster_status: {} };
    }
    const running: object[] = [];
    const queued: object[] = [];
    const stopped: object[] = [];
    for (const m of models) {
      const job = (status: string) => ({
        Models: m.name,
        Framework: framework,
        Cluster: cluster,
        'Model Status': status,
        Description: `${m.name} - ${m.description ?? ''}`,
        'Model Version': 1, // the fake status page holds every model at version 1
      });
      if (m.status === 'Live') running.push(job('running'));
      else if (m.status === 'Stopped') stopped.push(job('stopped'));
      else queued.push(job(m.status.toLowerCase()));
    }
    return {
      ...empty,
      running,
      queued,
      stopped,
      cluster_status: { cluster, total_models: models.length, live_models: running.length, stopped_models: stopped.length },
    };
  }

  /** One item of GET /{cluster}/models (§2.4): the capabilities' optional fields are omitted when unknown. */
  function modelItem(m: FakeModel): Record<string, unknown> {
    const item: Record<string, unknown> = { id: m.name, object: 'model', cluster, framework };
    if (m.details === 'bare') return item;
    const capabilities: Record<string, unknown> = { schema_version: 1, api_protocols: ['chat_completions'] };
    if (m.details !== 'no-window' && m.contextWindowTokens !== undefined) capabilities.context_window_tokens = m.contextWindowTokens;
    Object.assign(capabilities, { input_modalities: ['text'], streaming: true, tool_calling: { supported: false } });
    return { ...item, capabilities };
  }

  function modelsList(req: IncomingMessage, res: ServerResponse, name: string) {
    if (!modelsRoute) return sendNotFound(res);
    if (!authorize(req, res)) return;
    if (name !== cluster) return sendError(res, 404, 'cluster_not_found', `The requested cluster '${name}' does not exist.`);
    const wanted = new URL(req.url ?? '/', 'http://fake').searchParams.get('model_id');
    if (wanted === null) return sendJson(res, 200, models.map(modelItem));
    const found = models.find((m) => m.name === wanted);
    if (!found) return sendError(res, 404, 'endpoint_not_found', `${wanted} model not found on cluster ${cluster}.`);
    sendJson(res, 200, [modelItem(found)]);
  }

  // ── Bodies ──

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Ninja's body parsing: empty → 422 missing payload, bad JSON → 400. Returns undefined if answered. */
  function parseBody(raw: Buffer, res: ServerResponse): { value: unknown } | undefined {
    if (raw.length === 0) {
      sendJson(res, 422, { detail: [{ type: 'missing', loc: ['body', 'payload'], msg: 'Field required' }] });
      return undefined;
    }
    try {
      return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) };
    } catch {
      sendJson(res, 400, { detail: 'Cannot parse request body' });
      return undefined;
    }
  }

  // ── Streaming ──

  const alive = (res: ServerResponse) => !closing && !res.destroyed && !res.writableEnded;

  /** Writes text as one write, or as random 1..MAX_SPLIT_BYTES pieces, yielding between writes so each leaves separately. */
  async function write(res: ServerResponse, text: string): Promise<boolean> {
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < bytes.length) {
      if (!alive(res)) return false;
      const size = randomSplits ? 1 + Math.floor(Math.random() * MAX_SPLIT_BYTES) : bytes.length;
      res.write(bytes.subarray(at, at + size));
      at += size;
      if (chunkDelayMs > 0) await sleep(chunkDelayMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    return alive(res);
  }

  async function writeEvents(res: ServerResponse, payloads: string[]): Promise<boolean> {
    for (const payload of payloads) if (!(await write(res, `data: ${payload}\n\n`))) return false;
    return true;
  }

  function startStream(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Cache-Control',
    });
    res.flushHeaders();
  }

  async function respondStreaming(res: ServerResponse, c: Completion, dbModel: string, fault: ChatFault | undefined): Promise<void> {
    const events = streamEvents(c);
    startStream(res);
    if (fault?.kind === 'garbage') {
      // What a misbehaving upstream might send: SSE framing around non-JSON payloads.
      await writeEvents(res, ['chunk1', '<html><body>502 Bad Gateway</body></html>', '{"choices": [{"delta"', '[DONE]']);
      if (alive(res)) res.end();
      return;
    }
    if (fault && fault.kind !== 'status' && fault.kind !== 'hold') {
      // The first afterChunks content deltas, preceded by the role chunk if there are any.
      const n = Math.max(0, fault.afterChunks);
      const prefix = n > 0 ? [events.role, ...events.contents.slice(0, n)] : [];
      if (!(await writeEvents(res, prefix))) return;
      if (fault.kind === 'in-band-error') {
        await writeEvents(res, [inBandErrorEvent(dbModel, fault.message ?? DEFAULT_UPSTREAM_ERROR), '[DONE]']);
        if (alive(res)) res.end();
      } else if (fault.kind === 'drop') {
        res.destroy(); // the client sees the connection end mid-body, without [DONE]
      }
      // 'stall': leave the socket open and silent until the client or close() ends it.
      return;
    }
    if (await writeEvents(res, [events.role, ...events.contents, ...events.tail])) res.end();
  }

  function respondNonStreaming(res: ServerResponse, c: Completion, fault: ChatFault | undefined): void {
    switch (fault?.kind) {
      case undefined:
        sendJson(res, 200, completionBody(c));
        break;
      case 'in-band-error': {
        // Without a stream, an upstream failure comes back with its status mirrored (§8).
        const upstream = fault.message ?? DEFAULT_UPSTREAM_ERROR;
        sendError(res, 500, 'internal_endpoint_error', `Upstream endpoint returned 500: ${pyBytesRepr(upstream)}.`);
        break;
      }
      case 'garbage':
        // A 2xx upstream body that is not JSON makes the gateway crash into its catch-all (§8).
        sendInternalError(res);
        break;
      case 'drop':
        res.destroy();
        break;
      case 'stall':
        break; // never answer
      case 'status':
        throw new Error('status faults are answered before this point');
    }
  }

  function sendFaultStatus(res: ServerResponse, fault: Extract<ChatFault, { kind: 'status' }>): void {
    if (typeof fault.body !== 'string') {
      sendRaw(res, fault.status, fault.contentType ?? 'application/json; charset=utf-8', JSON.stringify(fault.body));
      return;
    }
    let looksJson = true;
    try {
      JSON.parse(fault.body);
    } catch {
      looksJson = false;
    }
    const type = fault.contentType ?? (looksJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
    sendRaw(res, fault.status, type, fault.body);
  }

  // ── The OpenAI-style POST routes (§1.1) ──

  async function openaiRoute(req: IncomingMessage, res: ServerResponse, [clusterName = '', frameworkName = '', endpoint = '']: string[]) {
    if (!authorize(req, res)) return;
    const raw = await readBody(req);
    const isChat = endpoint === 'chat/completions';
    if (isChat) {
      let recorded: unknown = raw.toString('utf8');
      try {
        recorded = JSON.parse(recorded as string);
      } catch {
        // An unparseable body is recorded as the text received.
      }
      const record: ChatRequestRecord = {
        model: isObject(recorded) && typeof recorded.model === 'string' ? recorded.model : '',
        body: recorded,
        authorization: req.headers.authorization,
        path: pathOf(req),
        at: Date.now(),
      };
      chatRequests.push(record);
      // The client hung up mid-answer (not the fake closing at the end of a test).
      res.on('close', () => {
        if (!res.writableFinished && !closing) record.clientClosedAt = Date.now();
      });
    }
    const parsed = parseBody(raw, res);
    if (!parsed) return;
    const body = parsed.value;
    const detail = isChat ? validateChatPayload(body) : validateOtherPayload(endpoint, body);
    if (detail.length > 0) return sendJson(res, 422, { detail });
    const payload = body as Record<string, unknown>;

    if (clusterName !== cluster) return sendError(res, 404, 'cluster_not_found', `The requested cluster '${clusterName}' does not exist.`);
    if (maintenanceNotice !== undefined) return sendError(res, 503, 'cluster_under_maintenance', maintenanceNotice);
    if (frameworkName !== framework)
      return sendError(res, 400, 'unsupported_framework', `framework ${frameworkName} not available on cluster ${clusterName}.`);
    if (!isChat) return sendError(res, 400, 'unsupported_endpoint', `'${endpoint}' not available on cluster '${clusterName}'`);

    // Endpoints are found by slug, so case and punctuation variants resolve (§3.1).
    const requested = String(payload.model);
    const slug = endpointSlug(clusterName, frameworkName, requested);
    const found = models.find((m) => endpointSlug(cluster, framework, m.name) === slug);
    if (!found) return sendError(res, 404, 'endpoint_not_found', `The requested endpoint '${slug}' does not exist.`);
    // Metis fails fast on a model that is not Live (§3.2); the message names the DB model.
    if (found.status !== 'Live')
      return sendError(res, 503, 'internal_endpoint_error', `${pyRepr(found.name)} is not currently live on Metis.`);

    let fault = faults.shift();
    if (fault?.kind === 'status') return sendFaultStatus(res, fault);
    if (fault?.kind === 'hold') {
      await fault.until;
      fault = undefined;
    }

    const messages = (payload.messages as Record<string, unknown>[]).map((m) => ({ role: String(m.role), content: m.content }));
    if (!fault && found.contextWindowTokens !== undefined) {
      const maxTokens = Number(payload.max_completion_tokens ?? payload.max_tokens ?? 0);
      const requestTokens = countPromptTokens(messages) + maxTokens;
      if (requestTokens > found.contextWindowTokens) {
        // SambaNova refuses it; the gateway relays the refusal as it relays any upstream 400 (§2.4, §5, §8).
        const upstream = contextLengthExceededBody(found.name, found.contextWindowTokens, requestTokens);
        if (laxBool(payload.stream) !== true)
          return sendError(res, 400, 'internal_endpoint_error', `Upstream endpoint returned 400: ${pyBytesRepr(upstream)}.`);
        startStream(res);
        if (await writeEvents(res, [inBandErrorEvent(found.name, upstream), '[DONE]'])) res.end();
        return;
      }
    }
    const text = (reply ?? defaultReply)({ model: found.name, messages });
    const thought = reasoning?.({ model: found.name, messages });
    const now = Date.now();
    const completion: Completion = {
      id: randomUUID(),
      created: Math.floor(now / 1000),
      model: requested,
      deltas: splitIntoDeltas(text),
      ...(thought ? { reasoningDeltas: splitIntoDeltas(thought) } : {}),
      promptTokens: countPromptTokens(messages),
      startedAt: now / 1000,
    };
    // What the usage chunk reports (sent on a successful stream), for tests that check the bot's accounting.
    const record = chatRequests.at(-1);
    if (record && !fault) record.usage = { promptTokens: completion.promptTokens, completionTokens: completion.deltas.length };
    if (laxBool(payload.stream) === true) await respondStreaming(res, completion, found.name, fault);
    else respondNonStreaming(res, completion, fault);
    // When the model finished, so a benchmark can subtract the model's own time.
    if (record) record.finishedAt = Date.now();
  }

  // ── Routing ──

  const routes: Route[] = [
    { pattern: /^\/health$/, method: 'GET', handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      pattern: /^\/status$/,
      method: 'GET',
      handle: (_req, res) => sendJson(res, 200, { [cluster]: maintenanceNotice === undefined }),
    },
    {
      pattern: /^\/whoami$/,
      method: 'GET',
      handle: (req, res) => {
        if (authorize(req, res)) sendJson(res, 200, WHOAMI);
      },
    },
    {
      pattern: /^\/list-endpoints$/,
      method: 'GET',
      handle: (req, res) => {
        if (authorize(req, res)) sendJson(res, 200, listEndpoints());
      },
    },
    {
      pattern: /^\/([^/]+)\/jobs$/,
      method: 'GET',
      handle: (req, res, [name]) => {
        if (!authorize(req, res)) return;
        if (name !== cluster) return sendError(res, 404, 'cluster_not_found', `The requested cluster '${name}' does not exist.`);
        sendJson(res, 200, jobs());
      },
    },
    { pattern: /^\/([^/]+)\/models$/, method: 'GET', handle: (req, res, [name = '']) => modelsList(req, res, name) },
    {
      pattern: /^\/([^/]+)\/([^/]+)\/v1\/(chat\/completions|completions|embeddings|responses)$/,
      method: 'POST',
      handle: openaiRoute,
    },
  ];

  function pathOf(req: IncomingMessage): string {
    return new URL(req.url ?? '/', 'http://fake').pathname;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = pathOf(req);
    requests.push({ method, path });
    if (!path.startsWith(`${PREFIX}/`)) return sendNotFound(res);
    let relative: string;
    try {
      relative = decodeURIComponent(path.slice(PREFIX.length)); // Django routes on the decoded path
    } catch {
      return sendNotFound(res);
    }
    for (const route of routes) {
      const match = route.pattern.exec(relative);
      if (!match) continue;
      if (method !== route.method) {
        // Ninja answers a wrong method before auth, in plain text.
        res.writeHead(405, { 'Content-Type': 'text/html; charset=utf-8', Allow: route.method });
        res.end('Method not allowed');
        return;
      }
      return route.handle(req, res, match.slice(1));
    }
    sendNotFound(res);
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    res.on('error', () => {}); // writes racing a destroyed socket are expected (drop, close)
    dispatch(req, res).catch(() => {
      if (!res.headersSent) sendInternalError(res);
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    chatRequests,
    requests,
    setStatus(name, status) {
      const m = models.find((x) => x.name === name);
      if (!m) throw new Error(`fake gateway has no model named ${name}`);
      m.status = status;
    },
    setModels(next) {
      models = next.map((m) => ({ ...m }));
    },
    setModelsRoute(on) {
      modelsRoute = on;
    },
    injectChatFault(fault) {
      faults.push(fault);
    },
    setValidTokens(tokens) {
      validTokens = new Set(tokens);
    },
    throttledCount() {
      return throttled;
    },
    clearTokenProblem(token) {
      tokenProblems.delete(token);
    },
    setTokenProblem(token, problem) {
      tokenProblems.set(token, problem);
    },
    setMaintenance(notice) {
      maintenanceNotice = notice;
    },
    setReply(fn) {
      reply = fn;
    },
    setReasoning(fn) {
      reasoning = fn;
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((err) => (err ? reject(err) : resolve()));
        // Stalled streams and keep-alive connections would hold close() open.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
