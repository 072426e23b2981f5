/** README.md's table and .env.example are kept in step with the declarations in src/config.ts. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SETTINGS, loadConfig } from '../src/config.ts';
import { configTable, READ_ELSEWHERE, tableIn } from '../src/config-docs.ts';
import { settingsOf } from '../src/settings.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const settings = settingsOf(CONFIG_SETTINGS);

describe('README.md', () => {
  it('holds the table generated from the declarations (run `npm run docs:config` to update it)', () => {
    expect(tableIn(readme), `README.md's variables table is out of date: run \`npm run docs:config\`, or paste\n${configTable()}\n`).toBe(configTable());
  });

  it('names every declared variable with its default', () => {
    const table = tableIn(readme) ?? '';
    for (const s of settings) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${s.env}\` |`));
      expect(row, `${s.env} is missing from README.md`).toBeDefined();
      if (s.default && !s.unset) expect(row, `${s.env}'s default in README.md`).toMatch(new RegExp(`\\| \`${s.default.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\` \\|$`));
    }
  });
});

describe('.env.example', () => {
  const lines = [...envExample.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, commented, env, value]) => ({ commented: !!commented, env: env as string, value: (value as string).trim() }));
  const elsewhere = READ_ELSEWHERE.flatMap(([names]) => [...names.matchAll(/`(\w+)`/g)].map((m) => m[1]));

  it('names only declared variables, under their current names', () => {
    expect(lines.length).toBeGreaterThan(20);
    const unknown = lines.map((l) => l.env).filter((env) => !settings.some((s) => s.env === env) && !elsewhere.includes(env));
    expect(unknown).toEqual([]);
  });

  it('shows a declared default or example on every commented-out line', () => {
    for (const { commented, env, value } of lines) {
      const s = settings.find((x) => x.env === env);
      if (!s || !commented || value === '') continue;
      expect([s.default, s.example], `${env}=${value}`).toContain(value);
    }
  });
});

describe('the declarations', () => {
  it('each give a default and an example that their own parser accepts', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', METIS_ACCESS_TOKEN: 'tok' };
    for (const s of settings) {
      for (const value of [s.default, s.example].filter((v) => v !== undefined && !/^<.*>$/.test(v))) {
        expect(() => loadConfig({ ...base, [s.env]: value }), `${s.env}=${value}`).not.toThrow();
      }
    }
  });

  it('name each variable once, durations in seconds or days', () => {
    const names = settings.flatMap((s) => [s.env, ...s.oldNames.map((o) => o.env)]);
    expect(new Set(names).size).toBe(names.length);
    expect(settings.map((s) => s.env).filter((env) => /_MS$|_TIMEOUT$|_INTERVAL$/.test(env))).toEqual([]);
  });
});
