/**
 * The sandbox as a newcomer meets it: a real headless browser on the page
 * that plays Slack, the real service behind it, the fakes behind that.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OFFLINE_MODEL, SIMULATED_MARK } from '../../sandbox/fake-metis.ts';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';

const CHROMIUM = '/usr/bin/chromium';
const ANSWER_TIMEOUT_MS = 20_000;

let sandbox: Sandbox;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  sandbox = await startSandbox({ redisUrl: inject('redisUrl'), logger: capturedLogger('info').logger, modelStartMs: 1500 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage();
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message, e.stack));
  await page.goto(sandbox.url);
  await page.locator('#mode', { hasText: 'simulated answers' }).waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
});

/**
 * Records every text the thread's bot replies show, so a test can tell a streamed answer from one that
 * appeared whole. (A string, run in the page: the tests are typed without the DOM's types.)
 */
const RECORD_THREAD_REPLIES = `(() => {
  const seen = [];
  window.seenReplies = seen;
  const pane = document.getElementById('thread-messages');
  new MutationObserver(() => {
    for (const el of pane.querySelectorAll('.msg.bot .body')) {
      if (seen[seen.length - 1] !== el.innerText) seen.push(el.innerText);
    }
  }).observe(pane, { childList: true, subtree: true, characterData: true });
})()`;

async function ask(p: Page, text: string): Promise<void> {
  const input = p.locator('#message-input');
  await input.fill(text);
  await input.press('Enter');
}

describe('npm run sandbox', () => {
  it('answers a question typed in #general in its thread, streaming, with the HTML in it shown as text', async () => {
    await page.evaluate(RECORD_THREAD_REPLIES);
    await ask(page, '@metis what is <b>2+2</b>?');

    const thread = page.locator('#thread');
    await thread.locator('.thread-root .body', { hasText: '@metis what is <b>2+2</b>?' }).waitFor();
    const answer = thread.locator('#thread-messages .msg.bot .body', { hasText: 'print("code blocks look like this")' });
    await answer.waitFor({ timeout: ANSWER_TIMEOUT_MS });

    const text = await answer.innerText();
    expect(text).toContain(SIMULATED_MARK);
    expect(text).toContain('Meta-Llama-3.3-70B-Instruct');
    // What the person typed is shown as typed, never interpreted as markup.
    expect(text).toContain('<b>2+2</b>');
    expect(await thread.locator('.thread-root .body b b, #thread-messages .body b b').count()).toBe(0);
    // The code block of the answer is a code block.
    expect(await answer.locator('pre code').innerText()).toContain('print(');

    const seen = await page.evaluate<string[]>('window.seenReplies');
    const partial = seen.filter((s) => s.includes(SIMULATED_MARK) && !s.includes('code blocks look like this'));
    expect(partial.length, `streamed versions seen: ${JSON.stringify(seen.map((s) => s.slice(-40)))}`).toBeGreaterThan(0);

    // In the channel, the question carries its reply count, as in Slack.
    await expect.poll(() => page.locator('#messages .replies').first().innerText()).toBe('1 reply');
  });

  it('shows /metis-models with every status, and its button sets the channel default', async () => {
    const list = page.locator('#messages .msg.ephemeral', { hasText: 'Metis models:' });
    for (let attempt = 0; attempt < 5 && (await list.count()) === 0; attempt++) {
      await ask(page, '/metis-models');
      // The first time, the bot may still be fetching the list; it says so and a second try shows it.
      await page.locator('#messages .msg.ephemeral').nth(attempt).waitFor();
    }
    await list.waitFor();
    const text = await list.innerText();
    expect(text).toContain('3 of 4 Live');
    expect(text).toMatch(/Live · Meta-Llama-3\.3-70B-Instruct/);
    expect(text).toMatch(new RegExp(`Offline · ${OFFLINE_MODEL}`));
    expect(text).toContain('Only visible to you');

    await list.locator('.section', { hasText: 'Meta-Llama-3.1-8B-Instruct' }).getByRole('button', { name: 'Use in this channel' }).click();
    // Announced to the channel, as /metis model does.
    await page.locator('#messages .msg', { hasText: "set this channel's default model to Meta-Llama-3.1-8B-Instruct" }).waitFor();
  });

  it('in a DM, a question to the Offline model waits with a Cancel button, then is answered once Metis has started it', async () => {
    await page.locator('#dms button', { hasText: 'metis' }).click();
    await ask(page, '-m scout hello');
    const thread = page.locator('#thread-messages');
    await thread.locator('.msg.bot', { has: page.getByRole('button', { name: 'Cancel' }) }).waitFor({ timeout: ANSWER_TIMEOUT_MS });
    const answer = thread.locator('.msg.bot .body', { hasText: `stand-in for ${OFFLINE_MODEL}` });
    await answer.waitFor({ timeout: ANSWER_TIMEOUT_MS });
    await page.locator('#thread-messages .msg.bot .body', { hasText: 'code blocks look like this' }).waitFor({ timeout: ANSWER_TIMEOUT_MS });
    expect(await thread.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  });
});
