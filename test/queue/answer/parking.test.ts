/** The waits' decisions, with time passed in: when a question parks, for how long, and when it stops waiting. */
import { describe, expect, it } from 'vitest';
import { isMetisError } from '../../../src/errors.ts';
import type { SnapshotView } from '../../../src/models/catalog.ts';
import { accessWait, modelWait } from '../../../src/queue/answer/parking.ts';

const T0 = 1_700_000_000_000;
const cfg = { coldStartTimeoutMs: 10 * 60_000, coldStartPollMs: 15_000 };
const snapshot = (over: Partial<SnapshotView> = {}): SnapshotView => ({
  framework: 'vllm',
  models: [
    { name: 'big', status: 'Queued' },
    { name: 'small', status: 'Live' },
  ],
  maintenance: false,
  fetchedAt: T0,
  stale: false,
  ...over,
});

describe('modelWait', () => {
  it('proceeds when the model is Live', () => {
    expect(modelWait('small', snapshot(), {}, T0, cfg)).toEqual({ kind: 'proceed', progress: {} });
  });

  it('parks a question whose model is not Live, with a Cancel button, and remembers since when', () => {
    const d = modelWait('big', snapshot(), {}, T0, cfg);
    expect(d.kind).toBe('park');
    if (d.kind !== 'park') return;
    expect(d.park).toMatchObject({ reason: 'model', delayMs: 15_000, cancellable: true });
    expect(d.park.note).toContain('`big` is Queued on Metis');
    expect(d.progress.coldStartSince).toBe(T0);
  });

  it('gives up with cold_start_timeout (naming the Live models) once the timeout has passed since it began waiting', () => {
    const justBefore = modelWait('big', snapshot(), { coldStartSince: T0 }, T0 + cfg.coldStartTimeoutMs - 1, cfg);
    expect(justBefore.kind).toBe('park');
    const d = modelWait('big', snapshot(), { coldStartSince: T0 }, T0 + cfg.coldStartTimeoutMs, cfg);
    expect(d.kind).toBe('give-up');
    if (d.kind !== 'give-up') return;
    expect(isMetisError(d.error) && d.error.code).toBe('cold_start_timeout');
    expect(d.error.details).toMatchObject({ model: 'big', models: ['small'], waitedMinutes: 10 });
  });

  it('maintenance: asks the gateway once to learn the notice, then parks with it, and gives up as maintenance', () => {
    expect(modelWait('small', snapshot({ maintenance: true }), {}, T0, cfg).kind).toBe('proceed');
    const parked = modelWait('small', snapshot({ maintenance: true, maintenanceNotice: 'back at 5pm' }), {}, T0, cfg);
    expect(parked.kind === 'park' && parked.park.note).toContain('under maintenance: back at 5pm');
    const after503 = modelWait('small', snapshot({ maintenance: true }), { notLiveAt: T0 }, T0 + 1, cfg);
    expect(after503.kind).toBe('park');
    const late = modelWait('small', snapshot({ maintenance: true, maintenanceNotice: 'back at 5pm' }), { coldStartSince: T0 }, T0 + cfg.coldStartTimeoutMs, cfg);
    expect(late.kind === 'give-up' && late.error.code).toBe('maintenance');
  });

  it('after the gateway said "not live", a status fetched before then does not count as Live; a newer one does', () => {
    const said = { notLiveAt: T0 + 5_000 };
    expect(modelWait('small', snapshot({ fetchedAt: T0 + 5_000 }), said, T0 + 6_000, cfg).kind).toBe('park');
    expect(modelWait('small', snapshot({ fetchedAt: T0 + 5_001 }), said, T0 + 6_000, cfg).kind).toBe('proceed');
  });
});

describe('accessWait', () => {
  const admin = { accessWaitMs: 60 * 60_000, accessProbeMs: 30_000 };

  it('parks without a Cancel button, remembering since when, until the wait is over; then the question goes on', () => {
    const first = accessWait({}, T0, admin);
    expect(first.kind === 'park' && first.park).toMatchObject({ reason: 'access', delayMs: 30_000, cancellable: false });
    expect(first.progress.accessWaitSince).toBe(T0);
    expect(accessWait(first.progress, T0 + admin.accessWaitMs - 1, admin).kind).toBe('park');
    expect(accessWait(first.progress, T0 + admin.accessWaitMs, admin)).toEqual({ kind: 'proceed', progress: { accessWaitSince: T0 } });
  });
});
