/**
 * What every role of a process shares, built once per process (in `all`, the
 * listener and the worker use the same ones): the main Redis connection, the
 * keep-alive HTTP pool, the one Slack Web API client and the bot's identity
 * it read, the token store, the team's rules, model preferences,
 * cancellations, the operator's health checks and the metrics sources.
 */
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { TokenCrypto } from '../auth/token-crypto.ts';
import { TokenStore } from '../auth/token-store.ts';
import { type Clock, realClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { createPooledFetch, type PooledFetch } from '../http/fetch.ts';
import type { OpsEndpoints } from '../http/health-server.ts';
import type { Logger } from '../logger.ts';
import { ModelPreferences } from '../models/preferences.ts';
import { opsSources } from '../ops/metrics-sources.ts';
import { Cancellations } from '../queue/cancellation.ts';
import { createWebClient, slackFailure } from '../reply/web-client.ts';
import { AccessPolicy } from '../team/access-policy.ts';
import { ChannelInstructions } from '../team/channel-instructions.ts';
import { FairShare } from '../team/fair-share.ts';
import { UsageLimits } from '../team/limits.ts';
import { QueueControl } from '../team/queue-control.ts';
import { ThreadAskers } from '../team/thread-askers.ts';
import { UsageLedger } from '../team/usage.ts';
import type { Closers } from './closers.ts';
import { openRedis } from './redis-ready.ts';

export type Role = 'all' | 'listener' | 'worker';

/** Who the bot is in Slack: its user (mentions, replies to skip) and its bot id (its own messages). */
export interface BotIdentity {
  userId: string;
  botId?: string;
}

/** Who may ask, how much, and whose turn it is: the same rules for the listener and the worker. */
export interface TeamRules {
  policy: AccessPolicy;
  usage: UsageLedger;
  limits: UsageLimits;
  control: QueueControl;
  fairShare: FairShare;
}

export interface Shared {
  redis: Redis;
  http: PooledFetch;
  slack: WebClient;
  identity: BotIdentity;
  /** The stored tokens (a service account's or a login's), when tokens are kept in Redis. */
  tokenStore?: TokenStore;
  team: TeamRules;
  preferences: ModelPreferences;
  channelInstructions: ChannelInstructions;
  threadAskers: ThreadAskers;
  cancellations: Cancellations;
  /** /healthz and /readyz; each role adds the checks of what it needs. */
  ops: OpsEndpoints;
}

/** `clock` decides the windows of the per-person limits (a test holds the hour still). */
export async function buildShared(config: Config, role: Role, logger: Logger, closers: Closers, clock: Clock = realClock): Promise<Shared> {
  const prefix = config.queue.prefix;
  // Commands issued in the same tick share one round trip (the processor reads its state that way).
  const redis = await openRedis(config.redisUrl, 'redis', { maxRetriesPerRequest: 3, enableAutoPipelining: true }, logger, closers);
  // One keep-alive HTTP pool for Slack and gateway calls; closed after everything that uses it.
  const http = createPooledFetch();
  closers.add('http-pool', () => http.close());
  const slack = createWebClient(config.slack.botToken, config.slack.apiUrl, logger, http.fetch);
  const identity = await botIdentityOf(slack);

  const tokenStore = config.tokenEncryptionKeys.length ? new TokenStore(redis, prefix, new TokenCrypto(config.tokenEncryptionKeys), logger) : undefined;
  const team: TeamRules = {
    policy: new AccessPolicy(config.allow, slack, redis, prefix),
    usage: new UsageLedger(redis, prefix, logger, { content: config.sharing.auditContent, retentionDays: config.sharing.auditRetentionDays }),
    limits: new UsageLimits(redis, prefix, config.sharing, clock),
    control: new QueueControl(redis, prefix),
    fairShare: new FairShare(redis, prefix, config.sharing.userConcurrency),
  };
  // Before Redis closes: the usage counts still gathering in this process.
  closers.add('usage', () => team.usage.flush());
  closers.add('fair-share', () => team.fairShare.flush().catch(() => undefined));
  const ops: OpsEndpoints = {
    health: async () => ({ ok: redis.status === 'ready', details: { role, redis: redis.status } }),
    readiness: [{ name: 'redis', check: () => (redis.status === 'ready' ? undefined : `Redis connection is ${redis.status}`) }],
  };
  const scrape = opsSources({ redis, config, tokenStore });
  closers.add('metrics', () => scrape.close());
  return {
    redis,
    http,
    slack,
    identity,
    tokenStore,
    team,
    preferences: new ModelPreferences(redis, prefix),
    channelInstructions: new ChannelInstructions(redis, prefix),
    threadAskers: new ThreadAskers(redis, prefix),
    cancellations: new Cancellations(redis, prefix),
    ops,
  };
}

/**
 * Asks Slack who the bot token belongs to (auth.test), once per start, so a
 * revoked or mistyped token stops the start in one line naming the setting.
 */
export async function botIdentityOf(slack: WebClient): Promise<BotIdentity> {
  try {
    const r = await slack.auth.test();
    return { userId: r.user_id as string, botId: r.bot_id };
  } catch (err) {
    const failure = slackFailure(err);
    if (failure && failure.error !== 'request_failed' && failure.error !== 'ratelimited')
      throw new Error(`Slack refused SLACK_BOT_TOKEN (auth.test: ${failure.error}); set it to the Bot User OAuth Token (xoxb-…) from the app's "OAuth & Permissions" page, and reinstall the app if it was revoked`);
    throw new Error(`could not ask Slack who the bot is (auth.test at SLACK_API_URL): ${(err as Error).message}`);
  }
}
