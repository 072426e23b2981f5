/**
 * The worker role: the Metis access token and its renewal, the gateway
 * client under the fleet's budget, the model catalog, the answer worker and
 * the model-status worker. At shutdown it stops taking questions and lets
 * answers in flight finish under SHUTDOWN_GRACE before closing.
 */
import { createStatusBudget, ThreadStatus } from '../reply/thread-status.ts';
import { type Clock, realClock } from '../clock.ts';
import type { Worker } from 'bullmq';
import { AccessHealth } from '../auth/access-health.ts';
import { createAccessTokenSource, withAccessToken } from '../auth/access-token.ts';
import { checkLoginLapse } from '../auth/login-lapse.ts';
import type { Config } from '../config.ts';
import { GatewayClient } from '../gateway/client.ts';
import type { Logger } from '../logger.ts';
import { countingGatewayFetch, observeAnswerWorker } from '../metrics/instrument.ts';
import { ModelCatalog } from '../models/catalog.ts';
import { ContextWindows } from '../models/context-windows.ts';
import { readSharedFiles } from '../reply/slack-files.ts';
import { createAnswerWorker } from '../queue/answer-worker.ts';
import { RunningAnswers } from '../queue/running-answers.ts';
import { createStatusRefreshWorker } from '../queue/status-refresh.ts';
import { slackAccessNotifier } from '../reply/admin-alerts.ts';
import { EditPacer } from '../reply/edit-pacer.ts';
import { ChannelPostPacer } from '../reply/post-pacer.ts';
import { streamedReplies } from '../reply/streamed-reply.ts';
import { createWebClient } from '../reply/web-client.ts';
import { UserNames } from '../reply/user-names.ts';
import { GatewayBudget } from '../team/gateway-budget.ts';
import type { Closers } from './closers.ts';
import { openRedis } from './redis-ready.ts';
import type { Shared } from './shared.ts';

/** How often a worker checks whether the shared token is due for renewal. */
const RENEWAL_CHECK_MS = 60_000;

export async function startWorkerRole(config: Config, shared: Shared, logger: Logger, closers: Closers, clock: Clock = realClock): Promise<void> {
  const { redis, slack, tokenStore, team } = shared;
  const prefix = config.queue.prefix;
  const notifier = slackAccessNotifier(slack, config.admin, logger);
  const accessHealth = new AccessHealth(redis, prefix, notifier, logger);
  if (config.access.kind === 'user-login' && !(await tokenStore?.read()))
    throw new Error('no Metis login is stored yet: run `metis-bot auth login` (or `metis-bot auth import FILE`) with the same REDIS_URL and TOKEN_ENCRYPTION_KEY, then start again');
  const tokens = createAccessTokenSource(config.access, { redis, keyPrefix: prefix, keys: config.tokenEncryptionKeys, logger, health: accessHealth });

  // Renew before expiry even when nobody is asking questions; warn ahead of ALCF's periodic re-login.
  const loginPolicy = { maxAgeMs: config.admin.loginMaxAgeMs, warnBeforeMs: config.admin.loginWarnMs };
  const renewal = setInterval(() => {
    tokens.renewIfDue().catch((err: unknown) => logger.warn({ err }, 'scheduled token renewal failed'));
    if (tokenStore && config.access.kind === 'user-login' && loginPolicy.maxAgeMs > 0)
      checkLoginLapse({ store: tokenStore, redis, keyPrefix: prefix, policy: loginPolicy, notifier }).catch((err: unknown) =>
        logger.warn({ err }, 'could not check when the Metis login lapses'),
      );
  }, RENEWAL_CHECK_MS);
  renewal.unref();
  closers.add('token-renewal', async () => clearInterval(renewal));

  const budget = new GatewayBudget(redis, prefix, {
    requestsPerSecond: config.sharing.gatewayRequestsPerSecond,
    tokensPerMinute: config.sharing.gatewayTokensPerMinute,
  });
  const gateway = new GatewayClient({
    baseUrl: config.gateway.url,
    cluster: config.gateway.cluster,
    beforeRequest: () => budget.acquireRequest(),
    fetch: countingGatewayFetch(shared.http.fetch),
  });
  const catalog = new ModelCatalog({
    gateway,
    tokens,
    health: accessHealth,
    redis,
    keyPrefix: prefix,
    logger,
    freshMs: config.models.statusTtlMs,
    defaultModel: config.gateway.defaultModel,
  });
  const contextWindows = new ContextWindows({
    redis,
    keyPrefix: prefix,
    configured: config.models.contextTokens,
    describe: () => withAccessToken(tokens, (token) => gateway.models(token), accessHealth),
    logger,
  });
  const out = config.slackOutput;
  // One sharing of Slack's per-workspace tiers for every method an answer uses (edits, native streams, appends).
  const editPacer = new EditPacer(
    redis,
    prefix,
    { editsPerMinute: out.editsPerMinute, minIntervalMs: out.editIntervalMs, streamCallsPerMinute: out.streamCallsPerMinute, appendsPerMinute: out.appendsPerMinute },
    logger,
  );
  editPacer.start();
  closers.add('edit-pacer', () => editPacer.stop());

  // Blocking reads wait as long as they must, so this connection never gives up on a command.
  const connection = await openRedis(config.redisUrl, 'worker-redis', { maxRetriesPerRequest: null }, logger, closers);
  const statusBudget = createStatusBudget(redis, prefix, config.slackOutput.statusPerMinute);
  // A connection of its own: a subscribed connection can do nothing else.
  const stopConnection = await openRedis(config.redisUrl, 'stop-redis', { maxRetriesPerRequest: null }, logger, closers);
  const running = new RunningAnswers(stopConnection, prefix, logger);
  await running.start();
  // Typed loosely, as the metrics read only the timing fields every job has.
  const worker: Worker = createAnswerWorker({
    connection,
    prefix,
    concurrency: config.queue.workerConcurrency,
    lockMs: config.queue.workerLockMs,
    deps: {
      slack,
      gateway,
      catalog,
      preferences: shared.preferences,
      channelInstructions: shared.channelInstructions,
      threadAskers: shared.threadAskers,
      cancellations: shared.cancellations,
      running,
      tokens,
      health: accessHealth,
      userNames: new UserNames(slack, redis, prefix, { lookupsPerMinute: out.nameLookupsPerMinute }),
      policy: team.policy,
      budget,
      fairShare: team.fairShare,
      limits: team.limits,
      usage: team.usage,
      control: team.control,
      editPacer,
      contextWindows,
      readFiles: (files, log) => readSharedFiles({ client: slack, fetch: shared.http.fetch, token: config.slack.botToken, log }, files),
      replies: streamedReplies(shared.slack, editPacer, {
        mode: out.streaming,
        maxChars: out.messageMaxChars,
        appendIntervalMs: out.editIntervalMs,
        posts: new ChannelPostPacer(redis, prefix),
        streamClient: createWebClient(config.slack.botToken, config.slack.apiUrl, logger, shared.http.fetch, { retries: 0 }),
      }),
      threadStatus: (target) => new ThreadStatus(slack, statusBudget, clock, target),
      // Read at start (a refused token stops it there), so it is known here.
      botIdentity: async () => shared.identity,
      config,
      logger,
    },
    onFinished: (job) => team.fairShare.finished(job.data.user),
    logger,
  });
  observeAnswerWorker(worker);
  shared.ops.readiness.push(
    { name: 'workers', check: () => (worker.isRunning() ? undefined : 'the answer worker is not running') },
    { name: 'metis_access', check: () => AccessHealth.read(redis, prefix).then((p) => p && `${p.code}: ${p.detail}. Fix: ${p.fix}`) },
  );
  closers.add('worker', () => drain(worker, config.shutdownGraceMs, logger));

  const statusWorker = createStatusRefreshWorker({ connection, prefix, catalog, logger });
  // Forced: a status refresh is cheap to redo, and an unforced close can wait forever on a blocking read that a Redis restart left hanging.
  closers.add('status-worker', () => statusWorker.close(true));
  logger.info({ concurrency: config.queue.workerConcurrency, access: tokens.mode }, 'queue worker started');
}

/**
 * Takes no more questions and lets answers in flight finish; past the deadline, closes anyway and leaves them to
 * stalled-job recovery. (pause, not close: a graceful close cannot be turned into a forced one.)
 */
async function drain(worker: Worker, graceMs: number, logger: Logger): Promise<void> {
  const drained = worker.pause().then(() => 'drained' as const);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), graceMs);
  });
  const outcome = await Promise.race([drained, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.warn({ graceMs }, 'answers still running at the shutdown deadline; handing them back');
  await worker.close(true);
}
