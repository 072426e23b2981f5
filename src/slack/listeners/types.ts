import type { WebClient } from '@slack/web-api';
import type { AnswerJobData, AnswerRequest } from '../../queue/answer-job.ts';
import type { CancellableRequest, Cancellations } from '../../queue/cancellation.ts';
import type { ModelStatusReader } from '../../queue/status-refresh.ts';
import type { ModelPreferences } from '../../models/preferences.ts';
import type { Logger } from '../../logger.ts';
import type { AccessPolicy } from '../../team/access-policy.ts';
import type { ChannelInstructions } from '../../team/channel-instructions.ts';
import type { ThreadAskers } from '../../team/thread-askers.ts';
import type { UsageLimits } from '../../team/limits.ts';
import type { QueueControl } from '../../team/queue-control.ts';
import type { Rating, UsageLedger } from '../../team/usage.ts';
import type { AdminStatus } from '../../team/admin-status.ts';

/** Puts a request on the queue; throws when it could not be stored. */
export type EnqueueAnswer = (request: AnswerJobData) => Promise<void>;

/** What the Slack listeners may use: all of it fast (Redis, cached Slack lookups), none of it the gateway. */
export interface ListenerDeps {
  /** The process's one Slack Web API client (Bolt's own `client` is never used: it has its own retry settings). */
  slack: WebClient;
  enqueue: EnqueueAnswer;
  models: ModelStatusReader;
  preferences: ModelPreferences;
  channelInstructions: ChannelInstructions;
  /** Who was last answered in a channel thread (their replies there need no mention). */
  threadAskers: ThreadAskers;
  cancellations: Cancellations;
  /** A queued or running request: who asked, where, and the messages the bot posted for it. */
  findRequest: (jobId: string) => Promise<CancellableRequest | undefined>;
  /** What was asked in a request, finished or not, while its record is kept. */
  findAsked: (jobId: string) => Promise<AnswerRequest | undefined>;
  /** Asks a request's question again in its thread with `model`; returns the new request's id. */
  enqueueRerun: (request: AnswerRequest, model: string) => Promise<string>;
  /** Removes a request that is waiting (delayed); false when it is running or gone. */
  removeWaiting: (jobId: string) => Promise<boolean>;
  /** A person opened the bot's Messages tab (its DM channel): suggested prompts (see reply/agent-surface.ts). */
  messagesTabOpened: (user: string, channel: string) => Promise<void>;
  /** METIS_DEFAULT_MODEL, for help texts. */
  defaultModel?: string;
  team: {
    policy: AccessPolicy;
    usage: UsageLedger;
    limits: UsageLimits;
    limitSettings: { requestsPerHour: number; tokensPerDay: number };
    control: QueueControl;
    /** METIS_ADMIN_USERS */
    admins: string[];
    adminStatus: () => Promise<AdminStatus>;
    /** Records a rating of an answer (see usage.ts recordFeedback). */
    recordFeedback: (f: { requestId: string; user: string; channel: string; model: string; rating: Rating }) => Promise<unknown>;
  };
  logger: Logger;
}
