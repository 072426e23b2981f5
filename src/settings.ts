/**
 * The machinery behind src/config.ts: a setting is declared once (variable,
 * parser with its unit, default, example, doc, old names) and everything else
 * — the parsed values, their TypeScript type, the examples in error messages,
 * the README table — is derived from that declaration.
 *
 * Units: a duration's variable ends in `_SECONDS` (decimals allowed, so 0.05
 * is 50 ms) or, for spans counted in days, `_DAYS`; the value the code sees is
 * always milliseconds, in a field whose name ends in `Ms`.
 */

/** A value that cannot be used; the message completes "VARIABLE: …". */
export class Invalid extends Error {}

/** Turns a trimmed value into what the code uses; throws Invalid with a short reason. */
export type Parse<T> = (raw: string) => T;

/** An old name a setting is still read under, with the parser its old unit needs. */
export interface OldName {
  env: string;
  parse: Parse<unknown>;
}

export interface Setting<T> {
  readonly kind: 'setting';
  readonly env: string;
  readonly parse: Parse<T>;
  /** The value used when the variable is unset or empty, written as an operator would write it. */
  readonly default?: string;
  /** A good value, shown in error messages (and the default, when there is one). */
  readonly example: string;
  /** One line for the README: what the setting does. */
  readonly doc: string;
  /** What README's default column says when the default alone would not say it (e.g. "required", "first Live model"). */
  readonly unset?: string;
  readonly oldNames: readonly OldName[];
}

interface Declaration<T> {
  env: string;
  parse: Parse<T>;
  example?: string;
  doc: string;
  unset?: string;
  oldNames?: readonly OldName[];
}

/** Declares one setting. With a default its value is always set; without one it may be undefined. */
export function setting<T>(d: Declaration<T> & { default: string }): Setting<T>;
export function setting<T>(d: Declaration<T> & { example: string }): Setting<T | undefined>;
export function setting<T>(d: Declaration<T> & { default?: string }): Setting<T | undefined> {
  const example = d.example ?? d.default;
  if (example === undefined) throw new Error(`${d.env}: a setting needs an example or a default`);
  return { kind: 'setting', oldNames: [], ...d, example };
}

/** A nest of settings, shaped like the configuration the code reads. */
export type Tree = { readonly [key: string]: Setting<unknown> | Tree };

/** The values a tree of settings yields; keys whose value may be unset become optional. */
export type Values<T> = Flat<
  { -readonly [K in keyof T as T[K] extends Setting<infer V> ? (undefined extends V ? never : K) : K]: T[K] extends Setting<infer V> ? V : Values<T[K]> } & {
    -readonly [K in keyof T as T[K] extends Setting<infer V> ? (undefined extends V ? K : never) : never]?: T[K] extends Setting<infer V> ? V : never;
  }
>;
type Flat<T> = { [K in keyof T]: T[K] };

/** Every setting of a tree, in declaration order. */
export function settingsOf(tree: Tree): Setting<unknown>[] {
  return Object.values(tree).flatMap((node) => (node.kind === 'setting' ? [node as Setting<unknown>] : settingsOf(node as Tree)));
}

type Env = Record<string, string | undefined>;

/** What .env.example holds until someone fills it in ("xoxb-...", "<the secret …>"). */
const PLACEHOLDER = /^(?:[\w-]*\.\.\.|<[^>]*>)$/;

export interface Reading {
  /** The values of the settings that parsed; one with a problem is missing. */
  values: unknown;
  problems: Array<{ env: string; problem: string }>;
  /** Old names that were used, each with the name to use instead. */
  renamed: Array<{ old: string; env: string }>;
}

/** Reads every setting of a tree from env, each on its own, so all problems are found in one pass. */
export function readSettings(tree: Tree, env: Env): Reading {
  const reading: Reading = { values: undefined, problems: [], renamed: [] };
  const read = (s: Setting<unknown>): { value?: unknown; ok: boolean } => {
    const given = env[s.env]?.trim();
    const old = s.oldNames.find((o) => env[o.env]?.trim());
    if (old && given) {
      reading.problems.push({ env: s.env, problem: `is set, and so is its old name ${old.env}: keep only ${s.env}` });
      return { ok: false };
    }
    if (old) reading.renamed.push({ old: old.env, env: s.env });
    const [name, raw, parse] = old ? [old.env, env[old.env]?.trim() ?? '', old.parse] : [s.env, given || s.default, s.parse];
    if (raw === undefined) return { ok: true, value: undefined };
    if (raw && PLACEHOLDER.test(raw)) {
      reading.problems.push({ env: name, problem: `is still the placeholder "${raw}" from .env.example: put the real value here, or remove the line` });
      return { ok: false };
    }
    try {
      return { ok: true, value: parse(raw) };
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      reading.problems.push({ env: name, problem: err.message });
      return { ok: false };
    }
  };
  const walk = (t: Tree): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, node] of Object.entries(t)) {
      if (node.kind !== 'setting') out[key] = walk(node as Tree);
      else {
        const { ok, value } = read(node as Setting<unknown>);
        if (ok && value !== undefined) out[key] = value;
      }
    }
    return out;
  };
  reading.values = walk(tree);
  return reading;
}

// --- parsers -----------------------------------------------------------------

const inRange = (n: number, min: number, max: number) => Number.isFinite(n) && n >= min && n <= max;

/** A whole number from min to max. */
export const int =
  (min: number, max: number): Parse<number> =>
  (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !inRange(n, min, max)) throw new Invalid(`must be a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };

/** Seconds from min to max, decimals allowed; the code gets milliseconds. */
export const seconds =
  (min: number, max: number): Parse<number> =>
  (v) => {
    const n = Number(v);
    if (!/^\d+(?:\.\d+)?$/.test(v) || !inRange(n, min, max)) throw new Invalid(`must be a number of seconds from ${min} to ${max}, got "${v}"`);
    return Math.round(n * 1000);
  };

/** Whole days from min to max; the code gets milliseconds. */
export const days =
  (min: number, max: number): Parse<number> =>
  (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !inRange(n, min, max)) throw new Invalid(`must be a whole number of days from ${min} to ${max}, got "${v}"`);
    return n * 86_400_000;
  };

/** Milliseconds, as the old `_MS` variables were written. */
export const millis =
  (min: number, max: number): Parse<number> =>
  (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !inRange(n, min, max)) throw new Invalid(`must be a whole number of milliseconds from ${min} to ${max}, got "${v}"`);
    return n;
  };

/** A duration such as 1800, 90s, 30m or 2h (bare numbers are seconds), as METIS_COLD_START_TIMEOUT was written. */
export const duration: Parse<number> = (v) => {
  const m = /^(\d+)\s*(s|m|h)?$/i.exec(v);
  if (!m) throw new Invalid(`must be a duration like 1800, 90s, 30m or 2h, got "${v}"`);
  const unit = (m[2] ?? 's').toLowerCase();
  return Number(m[1]) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : 1000);
};

/** Any text. */
export const text: Parse<string> = (v) => v;

/** Text made only of letters, digits, "-" and "_". */
export const name: Parse<string> = (v) => {
  if (!/^[A-Za-z0-9_-]+$/.test(v)) throw new Invalid(`may hold only letters, digits, "-" and "_", got "${v}"`);
  return v;
};

/** One of a few words, in any case. */
export const oneOf =
  <W extends string>(words: readonly W[], explain = `one of ${words.join(', ')}`): Parse<W> =>
  (v) => {
    const word = v.toLowerCase() as W;
    if (!words.includes(word)) throw new Invalid(`must be ${explain}, got "${v}"`);
    return word;
  };

export const bool: Parse<boolean> = (v) => {
  const value = v.toLowerCase();
  if (['', 'false', '0', 'no'].includes(value)) return false;
  if (['true', '1', 'yes'].includes(value)) return true;
  throw new Invalid(`must be true or false, got "${v}"`);
};

/** An http(s) URL; `slash` adds or removes the trailing "/" the code expects. */
export const httpUrl =
  (slash: 'with' | 'without'): Parse<string> =>
  (v) => {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {}
    if (!ok) throw new Invalid(`must be a URL, got "${v}"`);
    const bare = v.replace(/\/+$/, '');
    return slash === 'with' ? `${bare}/` : bare;
  };

/** A comma-separated list of Slack IDs; empty means "everyone". */
export const slackIds =
  (pattern: RegExp, what: string): Parse<string[]> =>
  (v) => {
    const ids = v.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = ids.find((id) => !pattern.test(id));
    if (bad) throw new Invalid(`must be Slack ${what}, got "${bad}"`);
    return ids;
  };

// --- documentation ------------------------------------------------------------

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The README's table of variables, one row per setting, in declaration order. */
export function settingsTable(tree: Tree, extraRows: ReadonlyArray<readonly [variable: string, meaning: string, unset: string]> = []): string {
  const rows = settingsOf(tree).map((s) => {
    const renamed = s.oldNames.length ? ` (formerly ${s.oldNames.map((o) => `\`${o.env}\``).join(', ')}, still read)` : '';
    const dflt = s.unset ?? (s.default === undefined ? '—' : s.default === '' ? 'empty' : `\`${s.default}\``);
    return `| \`${s.env}\` | ${cell(s.doc)}${renamed} | ${cell(dflt)} |`;
  });
  const extra = extraRows.map(([v, m, d]) => `| ${v} | ${cell(m)} | ${cell(d)} |`);
  return ['| variable | meaning | default |', '|---|---|---|', ...rows, ...extra].join('\n');
}
