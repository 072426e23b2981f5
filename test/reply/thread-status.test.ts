/**
 * Slack's thread status on its own, against the fake Slack: within the
 * fleet's budget, refreshed on the injected clock before Slack's timeout, a
 * clear never held back when a status is up, and given up once refused.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { plainStatus, STATUS_GRACE_MS, STATUS_REFRESH_MS, createStatusBudget, ThreadStatus } from '../../src/reply/thread-status.ts';
import type { MinuteBudget } from '../../src/minute-budget.ts';
import { createWebClient } from '../../src/reply/web-client.ts';
import { STATUS_TIMEOUT_MS } from '../fakes/slack-assistant.ts';
import { BOT_TOKEN, type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { waitFor } from '../helpers/wait.ts';

const CHANNEL = 'C0CHAN';
let redis: Redis;
let slack: FakeSlack;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(() => slack.close());

// The budget's minute stands still (its own clock), so a run that spans the turn of a minute counts the same.
const newBudget = (perMinute: number) => createStatusBudget(redis, `t${randomBytes(4).toString('hex')}`, perMinute, new ManualClock());

function statusFor(budget: MinuteBudget, opts: { clock?: ManualClock; threadTs?: string; shown?: string; graceMs?: number } = {}) {
  const { logger } = capturedLogger('debug');
  const client = createWebClient(BOT_TOKEN, slack.apiUrl, logger);
  const clock = opts.clock ?? new ManualClock();
  const threadTs = opts.threadTs ?? slack.postAsUser({ channel: CHANNEL, user: 'U0HUMAN', text: 'q' }).ts;
  const target = { channel: CHANNEL, threadTs, logger, graceMs: opts.graceMs, shown: opts.shown };
  return { status: new ThreadStatus(client, budget, clock, target), threadTs, clock };
}

describe('the thread status', () => {
  it('is sent only when it changes, refreshed before Slack clears it, and stops refreshing once cleared', async () => {
    const { status, threadTs, clock } = statusFor(newBudget(100));
    await status.set('asking m…');
    await status.set('asking m…');
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['asking m…']);
    expect(STATUS_REFRESH_MS).toBeLessThan(STATUS_TIMEOUT_MS);
    clock.advance(STATUS_REFRESH_MS);
    await status.set('asking m…'); // waits for the refresh in flight
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs)).toHaveLength(2);
    await status.clear();
    clock.advance(5 * STATUS_REFRESH_MS);
    await status.clear();
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['asking m…', 'asking m…', '']);
  });

  it('past the fleet budget a status is not set, and then no clear is sent; a status that went out is always cleared', async () => {
    const budget = newBudget(1);
    const spent = statusFor(budget);
    await spent.status.set('first');
    const { status, threadTs } = statusFor(budget, { threadTs: spent.threadTs });
    await status.set('second'); // over the budget: not sent
    await status.clear(); // Slack still shows "first", which the other status clears
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['first']);
    await spent.status.clear(); // not counted against the budget
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['first', '']);
  });

  it("a status already showing (the listener's queue position) is replaced at once, without a grace, and cleared at the end", async () => {
    const { status, threadTs } = statusFor(newBudget(100), { shown: '3 questions ahead', graceMs: STATUS_GRACE_MS });
    await status.set('asking m…');
    await status.clear();
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['asking m…', '']);
    const quick = statusFor(newBudget(100), { threadTs, shown: '1 question ahead', graceMs: STATUS_GRACE_MS });
    await quick.status.clear(); // answered before it set a status of its own: the queue position is still cleared
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['asking m…', '', '']);
  });

  it("an answer's first status waits out its grace: cleared sooner, nothing is sent; still wanted, the latest one is shown and refreshed", async () => {
    const quick = statusFor(newBudget(100), { graceMs: STATUS_GRACE_MS });
    await quick.status.set('asking m…');
    await quick.status.set('thinking…');
    await quick.status.clear();
    quick.clock.advance(STATUS_GRACE_MS);
    // A barrier: a later status on the same thread, sent at once, is the only call.
    const later = statusFor(newBudget(100), { threadTs: quick.threadTs });
    await later.status.set('later');
    expect(slack.assistant.statusCallsIn(CHANNEL, quick.threadTs).map((c) => c.status)).toEqual(['later']);

    const { status, threadTs, clock } = statusFor(newBudget(100), { graceMs: STATUS_GRACE_MS });
    await status.set('asking m…');
    clock.advance(STATUS_GRACE_MS - 1);
    await status.set('thinking…');
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs)).toHaveLength(0);
    clock.advance(1);
    await waitFor(() => slack.assistant.statusCallsIn(CHANNEL, threadTs).length === 1, 'the status after its grace');
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs)[0]?.status).toBe('thinking…');
    clock.advance(STATUS_REFRESH_MS);
    await waitFor(() => slack.assistant.statusCallsIn(CHANNEL, threadTs).length === 2, 'the refresh');
    await status.clear();
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs).map((c) => c.status)).toEqual(['thinking…', 'thinking…', '']);
  });

  it('refused once, asks no more', async () => {
    const { status, threadTs } = statusFor(newBudget(100));
    slack.failNext('assistant.threads.setStatus', { error: 'missing_scope' });
    await status.set('asking m…');
    await status.set('thinking…');
    await status.clear();
    expect(slack.assistant.statusCallsIn(CHANNEL, threadTs)).toHaveLength(0);
    expect(slack.callsOf('assistant.threads.setStatus')).toHaveLength(1);
  });

  it('says a note in plain words', () => {
    expect(plainStatus(':hourglass_flowing_sand: _`DeepSeek-R1` is Starting on Metis_')).toBe('DeepSeek-R1 is Starting on Metis');
  });
});
