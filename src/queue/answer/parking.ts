/**
 * Parking: a question that cannot be answered yet waits as a BullMQ-delayed
 * job (moved with our lock token), holding no worker slot, and goes through
 * admit again each time it wakes. Its thread shows a note saying why, edited
 * only when that changes.
 *
 * | reason        | set by                                              | delay                         | Cancel | since-field and its limit |
 * |---------------|-----------------------------------------------------|-------------------------------|--------|---------------------------|
 * | paused        | an admin's `/metis admin pause`                     | 2 000 ms                      | no     | none |
 * | access        | an access problem, or another request holds the probe | `admin.accessProbeMs`       | no     | `accessWaitSince`; after `admin.accessWaitMs` the question goes on and fails with the access error |
 * | model         | model not Live, or maintenance (status or the gateway's 503) | `models.coldStartPollMs` | yes   | `coldStartSince`; after `models.coldStartTimeoutMs` → `cold_start_timeout` / `maintenance` |
 * | team-tokens   | our own per-minute token budget for the model        | the wait it reports           | yes    | none |
 * | turn          | fair share: the asker's earlier questions go first   | 500 ms                        | no (keeps the note shown) | none |
 * | gateway-busy  | the gateway's 429 `rate_limited` before any text     | 1 000–1 500 ms                | no     | none |
 * | token-limit   | the gateway's `token_rate_limited` before any text   | `sharing.tokenLimitBackoffMs` | yes    | none |
 *
 * `accessWait` and `modelWait` are pure (time is passed in); the steps that
 * call them keep the progress they return.
 */
import { MetisError } from '../../errors.ts';
import type { SnapshotView } from '../../models/catalog.ts';
import type { AnswerProgress } from '../answer-job.ts';
import type { Park } from './outcome.ts';
import { WORDS } from '../../words.ts';

export const WAITING_FOR_ACCESS = WORDS.waiting_for_access();

export function waitingForModelNote(model: string, snapshot: SnapshotView): string {
  if (snapshot.maintenance || snapshot.maintenanceNotice) {
    return WORDS.waiting_for_maintenance({ notice: snapshot.maintenanceNotice });
  }
  const status = snapshot.models.find((m) => m.name === model)?.status ?? 'not Live';
  return WORDS.waiting_for_model({ model, status });
}

/** The parks whose delay and note are fixed by their reason alone. */
export const parks = {
  paused: (): Park => ({
    kind: 'park',
    reason: 'paused',
    delayMs: 2000,
    note: WORDS.waiting_paused(),
    cancellable: false,
  }),
  teamTokens: (model: string, waitMs: number): Park => ({
    kind: 'park',
    reason: 'team-tokens',
    delayMs: waitMs,
    note: WORDS.waiting_team_token_budget({ model, seconds: Math.ceil(waitMs / 1000) }),
    cancellable: true,
  }),
  /** A question already showing a note keeps it: its turn is one more reason to wait, not news. */
  turn: (showingNote: boolean): Park => ({
    kind: 'park',
    reason: 'turn',
    delayMs: 500,
    note: showingNote ? undefined : WORDS.waiting_turn(),
    cancellable: false,
  }),
  gatewayBusy: (random: () => number = Math.random): Park => ({
    kind: 'park',
    reason: 'gateway-busy',
    delayMs: 1000 + Math.floor(random() * 500),
    note: WORDS.waiting_gateway_busy(),
    cancellable: false,
  }),
  tokenLimit: (model: string, backoffMs: number): Park => ({
    kind: 'park',
    reason: 'token-limit',
    delayMs: backoffMs,
    note: WORDS.waiting_token_limit({ model, seconds: Math.ceil(backoffMs / 1000) }),
    cancellable: true,
  }),
};

/** What to do about a wait: go on, park (with what to log), or give up with the error the asker is told. */
export type WaitDecision =
  | { kind: 'proceed'; progress: AnswerProgress }
  | { kind: 'park'; park: Park; progress: AnswerProgress; log: Record<string, unknown> }
  | { kind: 'give-up'; error: MetisError; progress: AnswerProgress };

/** Waits for access to be fixed, unless it has waited long enough (then the question goes on, and fails clearly). */
export function accessWait(progress: AnswerProgress, now: number, cfg: { accessWaitMs: number; accessProbeMs: number }): WaitDecision {
  const since = progress.accessWaitSince ?? now;
  const next = { ...progress, accessWaitSince: since };
  if (now - since >= cfg.accessWaitMs) return { kind: 'proceed', progress: next };
  const park: Park = { kind: 'park', reason: 'access', delayMs: cfg.accessProbeMs, note: WAITING_FOR_ACCESS, cancellable: false };
  return { kind: 'park', park, progress: next, log: { waitedMs: now - since } };
}

/** Goes on when the model is Live; otherwise parks until the next status poll, or gives up after the cold-start timeout. */
export function modelWait(
  model: string,
  snapshot: SnapshotView,
  progress: AnswerProgress,
  now: number,
  cfg: { coldStartTimeoutMs: number; coldStartPollMs: number },
): WaitDecision {
  const status = snapshot.models.find((m) => m.name === model)?.status;
  const notLive = status !== undefined && status !== 'Live';
  // After the gateway said "not live", only a status fetched since then may say otherwise.
  const unconfirmed = progress.notLiveAt !== undefined && snapshot.fetchedAt <= progress.notLiveAt;
  if (!snapshot.maintenance && !notLive && !unconfirmed) return { kind: 'proceed', progress };
  // In maintenance, only the gateway's 503 carries the notice: ask once to learn it, unless it is known.
  if (snapshot.maintenance && !snapshot.maintenanceNotice && progress.notLiveAt === undefined) return { kind: 'proceed', progress };
  const since = progress.coldStartSince ?? now;
  const next = { ...progress, coldStartSince: since };
  const waitedMs = now - since;
  if (waitedMs >= cfg.coldStartTimeoutMs) {
    if (snapshot.maintenance || snapshot.maintenanceNotice)
      return { kind: 'give-up', progress: next, error: new MetisError('maintenance', `maintenance outlasted the wait (${waitedMs} ms)`, { notice: snapshot.maintenanceNotice }) };
    const error = new MetisError('cold_start_timeout', `${model} not Live after ${waitedMs} ms`, {
      model,
      models: snapshot.models.filter((m) => m.status === 'Live').map((m) => m.name),
      waitedMinutes: Math.round(cfg.coldStartTimeoutMs / 60_000),
    });
    return { kind: 'give-up', progress: next, error };
  }
  const park: Park = { kind: 'park', reason: 'model', delayMs: cfg.coldStartPollMs, note: waitingForModelNote(model, snapshot), cancellable: true };
  return { kind: 'park', park, progress: next, log: { model, status, maintenance: snapshot.maintenance, waitedMs } };
}
