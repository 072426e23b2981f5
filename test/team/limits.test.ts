/**
 * Per-person and per-channel limits in their fixed windows, against a real
 * Redis and an injected clock: a window's end is stepped to exactly, never
 * waited out, and the reset a refusal announces is the moment it comes true.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { limitMessage, type LimitDecision, UsageLimits } from '../../src/team/limits.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(() => redis.disconnect());

const none = { userRequestsPerHour: 0, userTokensPerDay: 0, channelRequestsPerHour: 0 };
const limitsAt = (clock: ManualClock, limits: Partial<typeof none>) =>
  new UsageLimits(redis, `l${randomBytes(4).toString('hex')}`, { ...none, ...limits }, clock);
const refused = (d: LimitDecision) => {
  if (d.ok) throw new Error('expected a refusal');
  return d;
};

describe('usage limits', () => {
  it("a person's hourly questions: refused at the limit until the hour turns, and told exactly when", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 15, 12, 30, 0));
    const limits = limitsAt(clock, { userRequestsPerHour: 2 });
    expect(await limits.admit('U1', 'C1')).toEqual({ ok: true });
    expect(await limits.admit('U1', 'C2')).toEqual({ ok: true });
    const no = refused(await limits.admit('U1', 'C1'));
    expect(no).toEqual({ ok: false, kind: 'user_requests_per_hour', limit: 2, resetAt: Date.UTC(2025, 0, 15, 13, 0, 0) });
    expect(limitMessage(no, clock.now())).toBe(":hourglass: You've reached your limit of 2 questions an hour. It resets in 30 min (13:00 UTC).");
    expect(await limits.admit('U2', 'C1')).toEqual({ ok: true }); // someone else is not held back
    expect((await limits.standing('U1')).requestsThisHour).toBe(2); // a refusal is not counted
    clock.set(Date.UTC(2025, 0, 15, 12, 59, 59, 999));
    expect((await limits.admit('U1', 'C1')).ok).toBe(false);
    clock.advance(1);
    expect(await limits.admit('U1', 'C1')).toEqual({ ok: true });
    expect((await limits.standing('U1')).requestsThisHour).toBe(1);
  });

  it("a channel's hourly questions: refused at the limit, and the person's question is given back", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 15, 12, 45, 0));
    const limits = limitsAt(clock, { userRequestsPerHour: 10, channelRequestsPerHour: 1 });
    expect(await limits.admit('U1', 'C1')).toEqual({ ok: true });
    const no = refused(await limits.admit('U2', 'C1'));
    expect(no).toMatchObject({ kind: 'channel_requests_per_hour', limit: 1, resetAt: Date.UTC(2025, 0, 15, 13, 0, 0) });
    expect(limitMessage(no, clock.now())).toContain('This channel has reached its limit of 1 questions an hour. It resets in 15 min (13:00 UTC).');
    expect((await limits.standing('U2')).requestsThisHour).toBe(0);
    expect(await limits.admit('U2', 'C2')).toEqual({ ok: true });
    clock.set(Date.UTC(2025, 0, 15, 13, 0, 0));
    expect(await limits.admit('U2', 'C1')).toEqual({ ok: true });
  });

  it("a person's daily tokens: refused once spent, until midnight UTC", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 15, 22, 0, 0));
    const limits = limitsAt(clock, { userTokensPerDay: 1000 });
    await limits.recordTokens('U1', 999);
    expect(await limits.admit('U1', 'C1')).toEqual({ ok: true });
    await limits.recordTokens('U1', 1);
    const no = refused(await limits.admit('U1', 'C1'));
    expect(no).toEqual({ ok: false, kind: 'user_tokens_per_day', limit: 1000, resetAt: Date.UTC(2025, 0, 16) });
    expect(limitMessage(no, clock.now())).toBe(":hourglass: You've used your 1,000 tokens for today. The limit resets at 00:00 UTC.");
    expect((await limits.standing('U1')).tokensToday).toBe(1000);
    clock.set(Date.UTC(2025, 0, 15, 23, 59, 59, 999));
    expect((await limits.admit('U1', 'C1')).ok).toBe(false);
    clock.advance(1);
    expect(await limits.admit('U1', 'C1')).toEqual({ ok: true });
    expect((await limits.standing('U1')).tokensToday).toBe(0);
  });
});
