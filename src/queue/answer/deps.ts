/** What the answer processor is built from: every collaborator is passed in, so a test can run a step on its own. */
import type { ReplyFactory } from '../../reply/reply.ts';
import type { ThreadStatusFactory } from '../../reply/thread-status.ts';
import type { WebClient } from '@slack/web-api';
import type { AccessHealth } from '../../auth/access-health.ts';
import type { AccessTokenSource } from '../../auth/access-token.ts';
import type { Config } from '../../config.ts';
import type { GatewayClient } from '../../gateway/client.ts';
import type { Logger } from '../../logger.ts';
import type { SharedFiles, SlackFile } from '../../conversation/file-context.ts';
import type { ModelCatalog } from '../../models/catalog.ts';
import type { ContextWindows } from '../../models/context-windows.ts';
import type { ModelPreferences } from '../../models/preferences.ts';
import type { EditPacer } from '../../reply/edit-pacer.ts';
import type { UserNames } from '../../reply/user-names.ts';
import type { AccessPolicy } from '../../team/access-policy.ts';
import type { ChannelInstructions } from '../../team/channel-instructions.ts';
import type { ThreadAskers } from '../../team/thread-askers.ts';
import type { FairShare } from '../../team/fair-share.ts';
import type { GatewayBudget } from '../../team/gateway-budget.ts';
import type { UsageLimits } from '../../team/limits.ts';
import type { QueueControl } from '../../team/queue-control.ts';
import type { UsageLedger } from '../../team/usage.ts';
import type { Cancellations } from '../cancellation.ts';
import type { RunningAnswers } from '../running-answers.ts';

export interface BotIdentity {
  userId: string;
  botId?: string;
}

export interface AnswerDeps {
  slack: WebClient;
  gateway: GatewayClient;
  catalog: ModelCatalog;
  preferences: ModelPreferences;
  /** A channel's own instructions, sent with its questions (/metis instructions). */
  channelInstructions: ChannelInstructions;
  /** Who was last answered in a thread: their replies there are follow-ups. */
  threadAskers: ThreadAskers;
  cancellations: Cancellations;
  /** The answers this process runs, each stoppable from any process. */
  running: RunningAnswers;
  tokens: AccessTokenSource;
  health: AccessHealth;
  userNames: UserNames;
  policy: AccessPolicy;
  budget: GatewayBudget;
  fairShare: FairShare;
  limits: UsageLimits;
  usage: UsageLedger;
  control: QueueControl;
  /** Counts the answers streaming now, fleet-wide (Slack's edit budget is shared among them). */
  editPacer: EditPacer;
  /** Each model's context window (the gateway's word, the setting, or what a refusal taught). */
  contextWindows: ContextWindows;
  /** Downloads shared files and reads their text (reply/slack-files.ts, with the bot token). */
  readFiles: (files: readonly SlackFile[], log: Logger) => Promise<SharedFiles>;
  /** Where each answer is shown in its thread (today: a message edited as the answer streams). */
  replies: ReplyFactory;
  /** Slack's status line under the answer's thread, while no text has arrived. */
  threadStatus: ThreadStatusFactory;
  botIdentity: () => Promise<BotIdentity>;
  config: Pick<Config, 'gateway' | 'slackOutput' | 'admin' | 'models' | 'sharing'>;
  logger: Logger;
}
