/**
 * The layers of src/, read from the import statements themselves: a file may
 * import its own layer or one below it, there are no import cycles, and no
 * source file grows past 350 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, test } from 'vitest';

/** Top to bottom: a file may import its own layer or one below it. */
const LAYERS = [
  ['cli.ts', 'main.ts', 'config-docs.ts', 'roles', 'ops'],
  ['slack'],
  ['queue'],
  ['team'],
  ['reply'],
  ['models'],
  ['conversation'],
  ['auth'],
  ['gateway'],
  ['http'],
  [
    'config.ts',
    'config-settings.ts',
    'settings.ts',
    'errors.ts',
    'words.ts',
    'file-words.ts',
    'inert-text.ts',
    'logger.ts',
    'stats.ts',
    'redis-connection.ts',
    'redis-clock.ts',
    'cached-read.ts',
    'minute-budget.ts',
    'clock.ts',
    'redis-keys.ts',
    'metrics',
  ],
];
const MAX_LINES = 350;

const IMPORT = /^\s*(?:import|export)\s[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;
// Sorted so that the cycle search starts from the same file on every file system.
const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join('src', f))
  .sort();
const imports = new Map(
  files.map((f) => {
    const text = readFileSync(f, 'utf8');
    return [
      f,
      [...text.matchAll(IMPORT)].map((m) => ({
        to: normalize(join(dirname(f), (m[1] ?? m[2]) as string)),
        line: text.slice(0, (m.index ?? 0) + m[0].length).split('\n').length,
      })),
    ];
  }),
);
const layerOf = (f: string) => LAYERS.findIndex((l) => l.includes(f.split(/[\\/]/)[1] as string));

/** Every violation as `key` (what KNOWN lists) and `where` (what a reader needs to fix it). */
function violations(): { key: string; where: string }[] {
  const found: { key: string; where: string }[] = [];
  for (const [f, is] of imports) {
    for (const i of is) {
      if (layerOf(i.to) < layerOf(f)) found.push({ key: `import ${f} -> ${i.to}`, where: `${f}:${i.line} -> ${i.to}` });
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      const cycle = `cycle ${[...path.slice(path.indexOf(f)), f].join(' -> ')}`;
      found.push({ key: cycle, where: cycle });
      return;
    }
    state.set(f, 'open');
    for (const i of imports.get(f) ?? []) visit(i.to, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n').length;
    if (lines > MAX_LINES) found.push({ key: `long ${f}`, where: `${f} has ${lines} lines` });
  }
  return found;
}

describe('layers of src/', () => {
  test('the scan sees the whole tree: every file has a layer and every import resolves', () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
    const edges = [...imports].flatMap(([f, is]) => is.map((i) => ({ f, ...i })));
    expect(edges.filter((e) => !imports.has(e.to)).map((e) => `${e.f}:${e.line} ${e.to}`)).toEqual([]);
    expect(edges.length).toBeGreaterThan(150); // a broken regex would find almost nothing
  });

  test('no import runs upwards, no import cycle, no source file over 350 lines', () => {
    expect(violations().map((v) => v.where)).toEqual([]);
  });
});
