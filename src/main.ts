/**
 * Composes the service: config → Redis → queue → Slack listener and/or
 * workers → health endpoint. `stop()` shuts down in order (stop intake, drain
 * workers under a deadline, close queues, close Redis); every step runs even
 * if one before it failed.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { redisConnection, redisWhere } from './redis-connection.ts';
import type { Worker } from 'bullmq';
import { AccessHealth } from './auth/access-health.ts';
import { createAccessTokenSource } from './auth/access-token.ts';
import { checkLoginLapse } from './auth/login-lapse.ts';
import { TokenCrypto } from './auth/token-crypto.ts';
import { TokenStore } from './auth/token-store.ts';
import type { Config } from './config.ts';
import { GatewayClient } from './gateway/client.ts';
import { ModelCatalog } from './models/catalog.ts';
import { ModelPreferences } from './models/preferences.ts';
import { AccessPolicy } from './team/access-policy.ts';
import { FairShare } from './team/fair-share.ts';
import { GatewayBudget } from './team/gateway-budget.ts';
import { UsageLimits } from './team/limits.ts';
import { QueueControl } from './team/queue-control.ts';
import { readAdminStatus } from './team/admin-status.ts';
import { UsageLedger } from './team/usage.ts';
import { Cancellations } from './queue/cancellation.ts';
import { createStatusRefreshWorker, ModelStatusReader } from './queue/status-refresh.ts';
import { startHealthServer, type HealthCheck, type ReadinessCheck } from './http/health-server.ts';
import { opsSources } from './ops/metrics-sources.ts';
import { countingGatewayFetch, countingSlackFetch, observeAnswerWorker } from './metrics/instrument.ts';
import type { Logger } from './logger.ts';
import { logProcessStats } from './stats.ts';
import { AnswerQueue } from './queue/answer-queue.ts';
import type { BotIdentity } from './queue/answer/processor.ts';
import { createAnswerWorker } from './queue/answer-worker.ts';
import { slackAccessNotifier } from './reply/admin-alerts.ts';
import { startSlackListener, type SlackListener } from './slack/app.ts';
import { UserNames } from './reply/user-names.ts';
import { EditPacer } from './reply/edit-pacer.ts';
import { createWebClient } from './reply/web-client.ts';
import { createPooledFetch } from './http/fetch.ts';

export type Role = 'all' | 'listener' | 'worker';

export interface RunningService {
  /** The port /healthz (and, in HTTP mode, /slack/events) listens on. */
  port: number;
  stop(): Promise<void>;
}

const REDIS_READY_TIMEOUT_MS = 30_000;
/** How often a worker checks whether the shared token is due for renewal. */
const RENEWAL_CHECK_MS = 60_000;

/**
 * Waits until Redis answers, for up to REDIS_READY_TIMEOUT_MS (it may still be
 * starting beside us); ioredis keeps retrying meanwhile. The failure names
 * REDIS_URL and the last connection error rather than an ioredis stack.
 */
async function connect(redis: Redis, url: string): Promise<void> {
  let lastError: string | undefined;
  const onError = (err: NodeJS.ErrnoException) => {
    lastError = err.code ?? err.message;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.connect().catch(() => undefined); // the first failure is not the last try: wait for 'ready'
      timer = setTimeout(
        () => reject(new Error(`cannot reach Redis at ${redisWhere(url)} (REDIS_URL)${lastError ? `: ${lastError}` : ''}; is it running, and is REDIS_URL right?`)),
        REDIS_READY_TIMEOUT_MS,
      );
    });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

export async function startService(config: Config, opts: { role: Role; logger: Logger }): Promise<RunningService> {
  const { logger, role } = opts;
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const runListener = role === 'all' || role === 'listener';
  const runWorker = role === 'all' || role === 'worker';

  const stop = async () => {
    // Reverse order of start: intake first, Redis last.
    for (const c of closers.reverse()) {
      try {
        await c.close();
      } catch (err) {
        logger.warn({ step: c.name, err: String(err) }, 'shutdown step failed; continuing');
      }
    }
    closers.length = 0;
  };

  try {
    // Commands issued in the same tick share one round trip (the processor reads its state that way).
    const shared = redisConnection(config.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
    shared.on('error', (err) => logger.warn({ err: err.message, redis: redisWhere(config.redisUrl) }, 'Redis connection error (REDIS_URL)'));
    closers.push({ name: 'redis', close: () => shared.quit() });
    await connect(shared, config.redisUrl);
    // One keep-alive HTTP pool for Slack and gateway calls; closed after everything that uses it.
    const http = createPooledFetch();
    closers.push({ name: 'http-pool', close: () => http.close() });

    const health: HealthCheck = async () => ({
      ok: shared.status === 'ready',
      details: { role, redis: shared.status },
    });
    // What /readyz checks; each part of the service adds the dependencies it needs.
    const readiness: ReadinessCheck[] = [
      { name: 'redis', check: () => (shared.status === 'ready' ? undefined : `Redis connection is ${shared.status}`) },
    ];

    // The stored tokens (a service account's or a login's), when tokens are kept in Redis.
    const tokenStore = config.tokenEncryptionKeys.length
      ? new TokenStore(shared, config.queue.prefix, new TokenCrypto(config.tokenEncryptionKeys), logger)
      : undefined;

    // One Slack client and one set of team rules serve both roles (in `all`, the listener and the worker).
    const slack = createWebClient(config.slack.botToken, config.slack.apiUrl, logger, countingSlackFetch(http.fetch));
    const team = {
      policy: new AccessPolicy(config.allow, slack, shared, config.queue.prefix),
      usage: new UsageLedger(shared, config.queue.prefix, logger, {
        content: config.sharing.auditContent,
        retentionDays: config.sharing.auditRetentionDays,
      }),
      limits: new UsageLimits(shared, config.queue.prefix, config.sharing),
      control: new QueueControl(shared, config.queue.prefix),
      fairShare: new FairShare(shared, config.queue.prefix, config.sharing.userConcurrency),
    };

    let worker: Worker | undefined;
    if (runWorker) {
      const notifier = slackAccessNotifier(slack, config.admin, logger);
      const health = new AccessHealth(shared, config.queue.prefix, notifier, logger);
      if (config.access.kind === 'user-login') {
        const stored = await tokenStore?.read();
        if (!stored) throw new Error('no Metis login is stored yet: run `metis-bot auth login` (or `metis-bot auth import FILE`) with the same REDIS_URL and TOKEN_ENCRYPTION_KEY, then start again');
      }
      const tokens = createAccessTokenSource(config.access, {
        redis: shared,
        keyPrefix: config.queue.prefix,
        keys: config.tokenEncryptionKeys,
        logger,
        health,
      });
      // Renew before expiry even when nobody is asking questions; warn ahead of ALCF's periodic re-login.
      const loginPolicy = { maxAgeMs: config.admin.loginMaxAgeMs, warnBeforeMs: config.admin.loginWarnMs };
      const renewal = setInterval(() => {
        tokens.renewIfDue().catch((err: unknown) => logger.warn({ err: String(err) }, 'scheduled token renewal failed'));
        if (tokenStore && config.access.kind === 'user-login' && loginPolicy.maxAgeMs > 0)
          checkLoginLapse({ store: tokenStore, redis: shared, keyPrefix: config.queue.prefix, policy: loginPolicy, notifier }).catch((err: unknown) =>
            logger.warn({ err: String(err) }, 'could not check when the Metis login lapses'),
          );
      }, RENEWAL_CHECK_MS);
      renewal.unref();
      closers.push({ name: 'token-renewal', close: async () => clearInterval(renewal) });
      const budget = new GatewayBudget(shared, config.queue.prefix, {
        requestsPerSecond: config.sharing.gatewayRequestsPerSecond,
        tokensPerMinute: config.sharing.gatewayTokensPerMinute,
      });
      const gateway = new GatewayClient({
        baseUrl: config.gateway.url,
        cluster: config.gateway.cluster,
        beforeRequest: () => budget.acquireRequest(),
        fetch: countingGatewayFetch(http.fetch),
      });
      const catalog = new ModelCatalog({
        gateway,
        tokens,
        health,
        redis: shared,
        keyPrefix: config.queue.prefix,
        logger,
        freshMs: config.models.statusTtlMs,
        defaultModel: config.gateway.defaultModel,
      });
      let identity: Promise<BotIdentity> | undefined;
      const botIdentity = () => {
        identity ??= slack.auth.test().then(
          (r) => ({ userId: r.user_id as string, botId: r.bot_id as string | undefined }),
          (err) => {
            identity = undefined;
            throw err;
          },
        );
        return identity;
      };
      await botIdentity();
      const editPacer = new EditPacer(
        shared,
        config.queue.prefix,
        { editsPerMinute: config.slackOutput.editsPerMinute, minIntervalMs: config.slackOutput.editIntervalMs },
        logger,
      );
      editPacer.start();
      closers.push({ name: 'edit-pacer', close: () => editPacer.stop() });
      const workerConnection = redisConnection(config.redisUrl, { maxRetriesPerRequest: null });
      workerConnection.on('error', (err) => logger.warn({ err: err.message }, 'Redis connection error (worker)'));
      await connect(workerConnection, config.redisUrl);
      closers.push({ name: 'worker-redis', close: () => workerConnection.quit() });
      worker = createAnswerWorker({
        connection: workerConnection,
        prefix: config.queue.prefix,
        concurrency: config.queue.workerConcurrency,
        lockMs: config.queue.workerLockMs,
        deps: {
          slack,
          gateway,
          catalog,
          preferences: new ModelPreferences(shared, config.queue.prefix),
          cancellations: new Cancellations(shared, config.queue.prefix),
          tokens,
          health,
          userNames: new UserNames(slack, shared, config.queue.prefix),
          policy: team.policy,
          budget,
          fairShare: team.fairShare,
          limits: team.limits,
          usage: team.usage,
          control: team.control,
          editPacer,
          botIdentity,
          config,
          logger,
        },
        onFinished: (job) => team.fairShare.finished(job.data.user),
        logger,
      });
      const w = worker;
      observeAnswerWorker(w);
      readiness.push(
        { name: 'workers', check: () => (w.isRunning() ? undefined : 'the answer worker is not running') },
        { name: 'metis_access', check: () => AccessHealth.read(shared, config.queue.prefix).then((p) => p && `${p.code}: ${p.detail}. Fix: ${p.fix}`) },
      );
      closers.push({
        name: 'worker',
        close: async () => {
          // Take no more questions and let answers in flight finish; past the deadline, close anyway and leave
          // them to stalled-job recovery. (pause, not close: a graceful close cannot be turned into a forced one.)
          const drained = w.pause().then(() => 'drained' as const);
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), config.shutdownGraceMs);
          });
          const outcome = await Promise.race([drained, deadline]);
          clearTimeout(timer);
          if (outcome === 'timeout') logger.warn({ graceMs: config.shutdownGraceMs }, 'answers still running at the shutdown deadline; handing them back');
          await w.close(true);
        },
      });
      const statusWorker = createStatusRefreshWorker({ connection: workerConnection, prefix: config.queue.prefix, catalog, logger });
      // Forced: a status refresh is cheap to redo, and an unforced close can wait forever on a blocking read that a Redis restart left hanging.
      closers.push({ name: 'status-worker', close: () => statusWorker.close(true) });
      logger.info({ concurrency: config.queue.workerConcurrency, access: tokens.mode }, 'queue worker started');
    }

    let listener: SlackListener | undefined;
    if (runListener) {
      const queueConnection = redisConnection(config.redisUrl, { maxRetriesPerRequest: 1 });
      queueConnection.on('error', (err) => logger.warn({ err: err.message }, 'Redis connection error (queue)'));
      await connect(queueConnection, config.redisUrl);
      closers.push({ name: 'queue-redis', close: () => queueConnection.quit() });
      const queue = new AnswerQueue(queueConnection, config.queue.prefix, config.gateway.attempts, (err) =>
        logger.warn({ err: err.message }, 'queue error'),
      );
      closers.push({ name: 'queue', close: () => queue.close() });
      const models = new ModelStatusReader(shared, config.queue.prefix, config.models.statusTtlMs, queueConnection);
      closers.push({ name: 'status-queue', close: () => models.close() });
      listener = await startSlackListener({
        config,
        logger,
        ops: { health, readiness },
        redis: shared,
        deps: {
          enqueue: async (request) => {
            const jobId = await queue.add(request, (id) => team.fairShare.enqueued(request.user, id));
            logger.info({ requestId: jobId, channel: request.channel, user: request.user, source: request.source }, 'request queued');
          },
          models,
          preferences: new ModelPreferences(shared, config.queue.prefix),
          cancellations: new Cancellations(shared, config.queue.prefix),
          findRequest: (jobId) => queue.findOpen(jobId),
          removeWaiting: async (jobId) => {
            const removed = await queue.removeIfParked(jobId);
            // A removed job never finishes in a worker, so its turn is given back here, or the asker's
            // later questions would queue behind it for good.
            if (removed) await team.fairShare.finished(removed.user).catch((err: unknown) => logger.warn({ err, requestId: jobId }, 'could not release a cancelled question\'s turn'));
            return removed !== undefined;
          },
          defaultModel: config.gateway.defaultModel,
          team: {
            policy: team.policy,
            usage: team.usage,
            limits: team.limits,
            limitSettings: { requestsPerHour: config.sharing.userRequestsPerHour, tokensPerDay: config.sharing.userTokensPerDay },
            control: team.control,
            admins: config.admin.users,
            adminStatus: () => readAdminStatus({ redis: shared, config, queue, control: team.control, tokenStore }),
          },
          logger,
        },
      });
      const l = listener;
      closers.push({ name: 'slack-listener', close: () => l.stop() });
      const socketConnected = l.socketConnected;
      if (socketConnected) readiness.push({ name: 'slack', check: () => (socketConnected() ? undefined : 'the Socket Mode connection to Slack is down') });
    }

    let server: Server | undefined = listener?.httpServer;
    if (!server) {
      server = await startHealthServer(config.port, { health, readiness });
      const s = server;
      closers.push({ name: 'health-server', close: () => new Promise((r) => s.close(() => r(undefined))) });
    }
    const port = (server.address() as AddressInfo).port;
    const scrape = opsSources({ redis: shared, config, tokenStore });
    closers.push({ name: 'metrics', close: () => scrape.close() });
    if (config.statsIntervalMs > 0) {
      const stop = logProcessStats(logger, config.statsIntervalMs);
      closers.push({ name: 'stats', close: async () => stop() });
    }
    logger.info({ role, port }, 'metis-bot is running');
    return { port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
