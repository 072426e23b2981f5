/**
 * The list of Redis keys in src/redis-keys.ts is complete and current: read
 * from the source itself, every key src/ builds is on the list, and every key
 * on the list is built somewhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_KEYS, redisKeys } from '../src/redis-keys.ts';

/** `<prefix>:thread-model:<channel>:<threadTs>` and `${p}:thread-model:${c}:${t}` both become `:thread-model:*:*`. */
const shape = (pattern: string) => pattern.replace(/^<prefix>|^\*/, '').replace(/<[^>]+>|\*/g, '*');

const sources = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: join('src', f), text: readFileSync(join('src', f), 'utf8') }));
const others = sources.filter((s) => s.file !== join('src', 'redis-keys.ts'));

/** Keys built by hand: a template literal starting with something named like a prefix, then `:`. */
const HAND_BUILT = /`\$\{[^}`]*(?:prefix|Prefix)[^}`]*\}(:[^`]*)`/g;
const handBuilt = others.flatMap(({ file, text }) =>
  [...text.matchAll(HAND_BUILT)].map((m) => ({ file, key: shape((m[1] as string).replace(/\$\{[^}]*\}/g, '*')) })),
);

const listed = new Set(REDIS_KEYS.map((k) => shape(k.pattern)));
const builders = Object.entries(redisKeys('<prefix>')).map(([name, b]) => ({
  name,
  key: shape(typeof b === 'string' ? b : (b as (...a: string[]) => string)(...Array.from({ length: b.length }, () => '*'))),
}));
const QUEUE_NAME = /export const \w+_QUEUE = '([\w-]+)'/g;
const queues = others.flatMap(({ text }) => [...text.matchAll(QUEUE_NAME)].map((m) => shape(`<prefix>:${m[1]}:*`)));

describe('the list of Redis keys', () => {
  it('names every key src/ builds by hand', () => {
    expect(handBuilt.length).toBeGreaterThan(0); // the scan finds keys at all
    const unnamed = handBuilt.filter((k) => !listed.has(k.key)).map((k) => `${k.file}: <prefix>${k.key}`);
    expect(unnamed).toEqual([]);
  });

  it('names every BullMQ queue, and every queue is opened by a constant the scan sees', () => {
    expect(queues.length).toBeGreaterThan(1);
    for (const q of queues) expect(listed).toContain(q);
    const opened = others.flatMap(({ text }) => [...text.matchAll(/new (?:Queue|Worker|QueueEvents)(?:<[^>]*>)?\(\s*([^,\s]+)/g)].map((m) => m[1]));
    for (const arg of opened) expect(arg).toMatch(/^[A-Z_]+_QUEUE$/);
  });

  it('has one builder per listed key, and the builders agree with the list', () => {
    const built = new Set(builders.map((b) => b.key));
    expect(builders.filter((b) => !listed.has(b.key)).map((b) => b.name)).toEqual([]);
    const unbuilt = REDIS_KEYS.filter((k) => !built.has(shape(k.pattern)) && !queues.includes(shape(k.pattern))).map((k) => k.pattern);
    expect(unbuilt).toEqual([]);
  });

  it('names no key nothing builds (each builder is used, or its key is built by hand)', () => {
    const used = (name: string) => others.some(({ text }) => new RegExp(`\\.${name}\\b`).test(text));
    const handKeys = new Set(handBuilt.map((k) => k.key));
    const stale = builders.filter((b) => !used(b.name) && !handKeys.has(b.key)).map((b) => b.name);
    expect(stale).toEqual([]);
  });

  it('says what each key holds and how long it lives', () => {
    for (const k of REDIS_KEYS) {
      expect(k.pattern).toMatch(/^<prefix>:/);
      expect(k.holds.length).toBeGreaterThan(10);
      expect(k.ttl.length).toBeGreaterThan(2);
    }
    expect(new Set(REDIS_KEYS.map((k) => k.pattern)).size).toBe(REDIS_KEYS.length);
  });
});
