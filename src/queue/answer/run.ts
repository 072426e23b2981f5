/**
 * One attempt at one job: what every step receives. It holds the request
 * (never changed), the progress (saved back into the job so that the next
 * attempt or wake-up carries on), the answer's message once opened, and what
 * must be released when the attempt ends.
 */
import type { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import { METADATA } from '../../conversation/build-messages.ts';
import type { Logger } from '../../logger.ts';
import { markdownMessage } from '../../reply/message-builders.ts';
import type { Reply } from '../../reply/reply.ts';
import { STATUS_GRACE_MS, type ThreadStatus } from '../../reply/thread-status.ts';
import type { AuditEntry } from '../../team/usage.ts';
import { type AnswerJobData, type AnswerProgress, type AnswerRequest, progressOf, requestOf } from '../answer-job.ts';
import type { AnswerDeps } from './deps.ts';

export interface AnswerRun {
  readonly job: Job<AnswerJobData>;
  readonly jobId: string;
  readonly request: AnswerRequest;
  /** Changed by the steps in place; `saveProgress` writes it back. */
  readonly progress: AnswerProgress;
  readonly lockToken: string | undefined;
  /** Aborted when the job's lock is lost (another worker then owns the answer). */
  readonly lockLost: AbortSignal | undefined;
  /** Aborted (reason: AnswerStopped) when someone stops the answer; tracked before admission reads the cancel flag. */
  readonly stopped: AbortSignal;
  readonly log: Logger;
  /** The model this attempt asks (chosen in admit); a waiting question keeps one someone chose. */
  model: string | undefined;
  /** Answer text has been shown: from then on a failure is told, never retried or parked. */
  hasText: boolean;
  /** Slack's status line under the thread (an extra beside the placeholder: see thread-status.ts). */
  readonly threadStatus: ThreadStatus;
  /** The answer's message in the thread, once the asker has passed the gate. */
  reply: Reply | undefined;
  /** Another attempt is allowed after this one. */
  attemptsLeft(): boolean;
  /** This request's line in the audit trail. */
  audit(entry: Omit<AuditEntry, 'requestId' | 'user' | 'channel'>): Promise<void>;
  /** A message of its own in the thread, for when there is no answer message to carry it. */
  notice(markdown: string): Promise<void>;
  openReply(): Reply;
  /** Saves the progress (queued behind any save in flight); failures are logged, never thrown. */
  saveProgress(): Promise<void>;
  /** Settles once every save asked for so far has. */
  saved(): Promise<void>;
  /** Runs `release` when the attempt ends, latest first. */
  defer(release: () => Promise<void> | void): void;
  release(): Promise<void>;
}

export function openRun(deps: AnswerDeps, job: Job<AnswerJobData>, lockToken: string | undefined, lockLost: AbortSignal | undefined): AnswerRun {
  const request = requestOf(job.data);
  const jobId = String(job.id);
  const log = deps.logger.child({ requestId: jobId, channel: request.channel, user: request.user, attempt: job.attemptsMade + 1 });
  const releases: (() => Promise<void> | void)[] = [];
  let saving: Promise<void> = Promise.resolve();

  const progress = progressOf(job.data);
  const tracked = deps.running.track(jobId);
  releases.push(() => tracked.release());
  const threadStatus = deps.threadStatus({
    channel: request.channel,
    threadTs: request.threadTs,
    logger: log,
    shown: progress.threadStatus ?? request.queueStatus,
    graceMs: STATUS_GRACE_MS,
  });
  releases.push(() => threadStatus.stop());
  const run: AnswerRun = {
    job,
    jobId,
    request,
    progress,
    lockToken,
    lockLost,
    stopped: tracked.signal,
    threadStatus,
    log,
    model: progress.model,
    hasText: false,
    reply: undefined,
    attemptsLeft: () => job.attemptsMade + 1 < (job.opts.attempts ?? 1),
    audit: (entry) => deps.usage.auditRequest({ requestId: jobId, user: request.user, channel: request.channel, ...entry }),
    notice: async (markdown) => {
      await deps.slack.chat.postMessage({
        channel: request.channel,
        thread_ts: request.threadTs,
        ...markdownMessage(markdown),
        metadata: { event_type: METADATA.notice, event_payload: { request_id: jobId } },
      } as Parameters<WebClient['chat']['postMessage']>[0]);
    },
    openReply: () => {
      const reply = deps.replies({
        channel: request.channel,
        threadTs: request.threadTs,
        requestId: jobId,
        asker: { user: request.user, teamId: request.teamId },
        logger: log,
        resume: { messageTs: run.progress.answerTs ?? [], shown: run.progress.shown },
        // Remember every message as it is posted, so a worker that takes over reuses them.
        // Slack's stop on the stream itself names no person; the asker is the one who can press it.
        onStoppedInSlack: () => void deps.running.stopHere(jobId, request.user),
        // Each message is also remembered as this request's, for Slack's own stop (which names messages).
        onMessagesChanged: (ts, answered) => {
          // A message holding the finished answer is not saved: the job ends next, and a worker that takes over
          // after a crash finds the answer's messages in the thread anyway (saving it was a Redis write per answer).
          if (!answered) void run.saveProgress();
          deps.cancellations.rememberMessages(request.channel, ts, jobId).catch((err: unknown) => log.warn({ err }, 'could not remember the answer\'s messages'));
        },
      });
      run.reply = reply;
      // Lost the job's lock (Redis trouble, a long pause): another worker now owns the answer.
      lockLost?.addEventListener('abort', () => reply.abandon(), { once: true });
      return reply;
    },
    saveProgress: () => {
      const p = run.progress;
      if (run.reply) {
        p.answerTs = run.reply.messageTs;
        // Only a waiting note is worth remembering: streaming edits are not saved, so what they show is not known.
        p.shown = p.note !== undefined ? run.reply.shown : undefined;
      }
      // Read when the write goes out (after any save in flight), so it carries the latest progress.
      saving = saving.then(() => job.updateData({ ...request, progress: { ...run.progress } })).catch((err: unknown) => log.warn({ err }, 'could not save the request state'));
      return saving;
    },
    saved: () => saving,
    defer: (release) => void releases.push(release),
    release: async () => {
      for (const release of releases.reverse()) await release();
      releases.length = 0;
    },
  };
  return run;
}
