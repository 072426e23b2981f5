import type { SlackFile } from '../conversation/file-context.ts';

/** What was asked: the listener writes it, and no worker ever changes it. */
export interface AnswerRequest {
  /**
   * How it was asked: a mention, a DM, a reply without a mention from the thread's asker (`follow-up`),
   * the "Ask Metis about this" shortcut (`shortcut`) or the "Summarize thread" shortcut (`summary`).
   */
  source: 'mention' | 'dm' | 'follow-up' | 'shortcut' | 'summary';
  teamId?: string;
  channel: string;
  /** Who asked. */
  user: string;
  /** The message text, Slack markup included. */
  text: string;
  /**
   * The message being answered; the thread is read up to it. For a shortcut, the moment it was used
   * (its `action_ts`): each use is a request of its own, and the thread is read up to then.
   */
  ts: string;
  /** The thread to answer in: the message's thread, or the message itself. */
  threadTs: string;
  /** The message is a reply in an existing thread, so the thread is context. */
  inThread: boolean;
  /** Files shared with the question (only the fields needed to read them). */
  files?: SlackFile[];
  eventId?: string;
  /** The model the asker picked in the shortcut's menu (taken as if named with -m). */
  chosenModel?: string;
  /** When Slack delivered the event (epoch ms), for queue-wait metrics. */
  receivedAt: number;
  /** The queue position the listener put in the thread's status ("3 questions ahead"), for the answer to replace and clear. */
  queueStatus?: string;
}

/** How far the answer got: what workers write back so that the next attempt or wake-up carries on. */
export interface AnswerProgress {
  /** Messages an earlier attempt of this job already posted (reused, never duplicated). */
  answerTs?: string[];
  /** Since when this request has been waiting for Metis access to be fixed (epoch ms). */
  accessWaitSince?: number;
  /** The model chosen on the first attempt; a waiting question keeps it. */
  model?: string;
  /** Since when this request has been waiting for its model to be Live, or for maintenance to end. */
  coldStartSince?: number;
  /** When the gateway last said the model is not live (a status from before then is not trusted). */
  notLiveAt?: number;
  /** The question has been counted against the usage limits (a waiting question is counted once). */
  admitted?: boolean;
  /** What the waiting note in the thread says, so a wake-up does not change it. */
  note?: string;
  noteCancellable?: boolean;
  /** A fingerprint of what the answer's live message shows, so a wake-up edits it only when that changes. */
  shown?: string;
  /** What Slack's thread status shows for a parked question, and when it was set (refreshed before Slack's timeout). */
  threadStatus?: string;
  threadStatusAt?: number;
}

/**
 * A job's data: the request, and its progress under one key of its own.
 *
 * Progress stays in `job.data` (written with `updateData`) rather than in
 * BullMQ's `job.progress`: `updateData` is one plain write that every BullMQ
 * move keeps, while `updateProgress` also publishes an event per save to the
 * queue's event stream, which nobody reads. Jobs queued by an earlier release
 * carry the progress keys at the top level; `progressOf` reads those too, so a
 * rolling deploy resumes their answers in their own messages.
 */
export type AnswerJobData = AnswerRequest & { progress?: AnswerProgress };

const PROGRESS_KEYS = ['answerTs', 'accessWaitSince', 'model', 'coldStartSince', 'notLiveAt', 'admitted', 'note', 'noteCancellable', 'shown', 'threadStatus', 'threadStatusAt'] as const;
const REQUEST_KEYS = ['source', 'teamId', 'channel', 'user', 'text', 'ts', 'threadTs', 'inThread', 'files', 'eventId', 'chosenModel', 'receivedAt', 'queueStatus'] as const;

/** What a job has done so far, from either shape of its data (a copy: changing it changes nothing stored). */
export function progressOf(data: AnswerJobData): AnswerProgress {
  if (data.progress) return { ...data.progress };
  const old = data as AnswerRequest & AnswerProgress;
  return Object.fromEntries(PROGRESS_KEYS.filter((k) => old[k] !== undefined).map((k) => [k, old[k]])) as AnswerProgress;
}

/** What was asked, from either shape of a job's data. */
export function requestOf(data: AnswerJobData): AnswerRequest {
  return Object.fromEntries(REQUEST_KEYS.filter((k) => data[k] !== undefined).map((k) => [k, data[k]])) as unknown as AnswerRequest;
}

export interface AnswerJobResult {
  outcome: 'answered' | 'usage' | 'error' | 'conversation_gone' | 'cancelled' | 'refused' | 'limited' | 'stopped';
  model?: string;
  code?: string;
  promptTokens?: number;
  completionTokens?: number;
}

export const ANSWER_QUEUE = 'answers';
export const ANSWER_JOB = 'answer';

/** One job per Slack message: retries of the same event (and a DM seen as two events) map to one id. */
export function answerJobId(d: Pick<AnswerRequest, 'teamId' | 'channel' | 'ts'>): string {
  // BullMQ ids may not contain ':' and may not be plain integers. Each part is escaped so that no two
  // messages share an id (a forged `1:2` and `1_2` would otherwise collide); Slack's own ids and
  // timestamps contain none of these characters, so a real message's id is unchanged.
  return `msg-${idPart(d.teamId ?? 'T')}-${idPart(d.channel)}-${idPart(d.ts)}`;
}

/** A prefix-free escape: `_` starts every escape, so `-` only ever separates parts. */
function idPart(s: string): string {
  return s.replace(/[_:-]/g, (c) => (c === '_' ? '__' : c === ':' ? '_c' : '_d'));
}

/** The id of the `n`th regeneration of the answer to a message (a job of its own, in the same thread). */
export function rerunJobId(d: Pick<AnswerRequest, 'teamId' | 'channel' | 'ts'>, n: number): string {
  return `${answerJobId(d)}-r${n}`;
}
