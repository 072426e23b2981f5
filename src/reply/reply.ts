/**
 * Where one answer is shown in its thread: the processor speaks to a Reply
 * and never to Slack messages directly. Today's implementation edits
 * ordinary messages (edited-message.ts); a native Slack stream
 * (chat.startStream / appendStream / stopStream) would be a second class
 * behind the same contract, chosen by the ReplyFactory the worker is given.
 */
import type { Logger } from '../logger.ts';
import type { FinishedControls } from './message-builders.ts';

export interface Reply {
  /**
   * First sign of life: posts the placeholder showing `status` (a Cancel
   * button when `cancelValue`), or takes over what an earlier attempt posted.
   * `waiting`: what was posted is this request's waiting note, brought up to
   * date as showWaiting does rather than at once.
   */
  begin(status: string, cancelValue?: string, waiting?: boolean): Promise<void>;
  /** A parked question's note, written only if it changed; false if it has to wait for a later wake-up. */
  showWaiting(status: string, cancelValue?: string): Promise<boolean>;
  /** A status line shown while no answer text has arrived (paced; not awaited). */
  setStatus(status: string, cancelValue?: string): void;
  /** The visible answer so far: the whole text, not a delta (a stream works out the delta itself). */
  update(text: string): void;
  /** Waits until what was given so far is shown (or dropped, if Slack refused it). */
  flush(): Promise<void>;
  /** Shows the whole answer as final; with `controls`, feedback, regenerate and a menu of other models under it. */
  finish(text: string, controls?: FinishedControls): Promise<void>;
  /**
   * Ends with a failure message: it replaces the placeholder when no text was
   * shown, or follows the partial text. `liveUsers`: ids it mentions on purpose.
   */
  fail(message: string, liveUsers?: readonly string[]): Promise<void>;
  /** A separate short notice in the thread (e.g. that a long question was cut). */
  note(message: string): Promise<void>;
  /** Stops every further write: the job's lock was lost, another worker owns the answer. */
  abandon(): void;
  /** Every message of the answer so far, oldest first (kept with the job so a retry reuses them). */
  readonly messageTs: string[];
  /** A fingerprint of what the live message shows, if known (kept with a parked job: see ReplyProgress). */
  readonly shown: string | undefined;
}

/** What an earlier attempt of the same request left in the thread. */
export interface ReplyProgress {
  messageTs: string[];
  shown?: string;
}

/** The thread an answer goes to, and who asked (a native stream outside DMs must name its recipient). */
export interface ReplyTarget {
  channel: string;
  threadTs: string;
  /** The request's id, carried in each message's metadata. */
  requestId: string;
  asker: { user: string; teamId?: string };
  logger: Logger;
  resume?: ReplyProgress;
  /** Called whenever a message is added or removed, so the job can remember them. */
  /** `answered`: the message just posted carries the finished answer. */
  onMessagesChanged?: (messageTs: string[], answered?: boolean) => void;
  /**
   * A person stopped the answer with Slack's own control (a native stream's
   * `stopped_by_user`): the answer stops as its Stop button would stop it.
   */
  onStoppedInSlack?: () => void;
}

export type ReplyFactory = (target: ReplyTarget) => Reply;

/** Nothing more can be posted to this conversation (archived, the bot removed, the thread deleted…). */
export class ConversationGone extends Error {
  constructor(readonly slackError: string) {
    super(`cannot post to this conversation: ${slackError}`);
    this.name = 'ConversationGone';
  }
}

/** This process no longer owns the answer (its job lock was lost): it must stop writing. */
export class AnswerAbandoned extends Error {
  constructor() {
    super('the answer was handed to another worker');
    this.name = 'AnswerAbandoned';
  }
}
