import type { AnswerJobData } from '../../queue/answer-job.ts';
import type { Cancellations } from '../../queue/cancellation.ts';
import type { ModelStatusReader } from '../../queue/status-refresh.ts';
import type { ModelPreferences } from '../../models/preferences.ts';
import type { Logger } from '../../logger.ts';

/** Puts a request on the queue; throws when it could not be stored. */
export type EnqueueAnswer = (request: AnswerJobData) => Promise<void>;

/** What the Slack listeners may use: all of it fast (Redis), none of it the gateway. */
export interface ListenerDeps {
  enqueue: EnqueueAnswer;
  models: ModelStatusReader;
  preferences: ModelPreferences;
  cancellations: Cancellations;
  /** A queued request's asker, if the request is still known. */
  findRequest: (jobId: string) => Promise<{ user: string } | undefined>;
  /** Removes a request that is waiting (delayed); false when it is running or gone. */
  removeWaiting: (jobId: string) => Promise<boolean>;
  /** METIS_DEFAULT_MODEL, for help texts. */
  defaultModel?: string;
  logger: Logger;
}
