/**
 * The listener role: the queue questions go on, the model-status reader, and
 * the Slack app (Socket Mode or signed HTTP) that acknowledges, checks and
 * enqueues, using the process's one Slack client and the identity it read.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { AnswerQueue } from '../queue/answer-queue.ts';
import { ModelStatusReader } from '../queue/status-refresh.ts';
import { startSlackListener, type SlackListener } from '../slack/app.ts';
import type { ListenerDeps } from '../slack/listeners/types.ts';
import { readAdminStatus } from '../team/admin-status.ts';
import { recordFeedback } from '../team/usage.ts';
import { answerJobId } from '../queue/answer-job.ts';
import { createStatusBudget } from '../reply/thread-status.ts';
import { suggestPrompts, titleConversation } from '../reply/agent-surface.ts';
import { WORDS } from '../words.ts';
import type { Closers } from './closers.ts';
import { openRedis } from './redis-ready.ts';
import type { Shared } from './shared.ts';

export async function startListenerRole(config: Config, shared: Shared, logger: Logger, closers: Closers): Promise<SlackListener> {
  const { redis, team, tokenStore } = shared;
  const prefix = config.queue.prefix;
  // Adding to the queue fails fast when Redis is down, so the person hears about it at once.
  const queueConnection = await openRedis(config.redisUrl, 'queue-redis', { maxRetriesPerRequest: 1 }, logger, closers);
  const queue = new AnswerQueue(queueConnection, prefix, config.gateway.attempts, (err) => logger.warn({ err }, 'queue error'));
  closers.add('queue', () => queue.close());
  const models = new ModelStatusReader(redis, prefix, config.models.statusTtlMs, queueConnection);
  closers.add('status-queue', () => models.close());

  const statusBudget = createStatusBudget(redis, prefix, config.slackOutput.statusPerMinute);
  const deps: ListenerDeps = {
    slack: shared.slack,
    enqueue: async (request) => {
      // Behind others, the thread's status says so until a worker takes it. Decided before the job is added, so
      // the job carries it: the answer replaces it and clears it at the end, with no Redis read of its own.
      // Its turn and the queue's length are asked together (one round trip): the acknowledgement waits on them.
      const [ahead, turn] = await Promise.all([queue.waitingNow().catch(() => 0), team.fairShare.enqueued(request.user, answerJobId(request))]);
      const queueStatus = ahead > 0 && (await statusBudget.take().catch(() => false)) ? WORDS.thread_status_queued({ ahead }) : undefined;
      const jobId = await queue.add(queueStatus ? { ...request, queueStatus } : request, turn);
      logger.info({ requestId: jobId, channel: request.channel, user: request.user, source: request.source }, 'request queued');
      // The first question of a DM conversation names it in the Messages tab.
      if (request.source === 'dm' && !request.inThread) void titleConversation(shared.slack, logger, request.channel, request.threadTs, request.text);
      // Not awaited: the event is acknowledged now. A refusal (an older workspace, a missing scope) changes nothing.
      if (queueStatus)
        void shared.slack.assistant.threads
          .setStatus({ channel_id: request.channel, thread_ts: request.threadTs, status: queueStatus, loading_messages: [queueStatus] })
          .catch((err: unknown) => logger.debug({ err }, 'could not show the queue position'));
    },
    models,
    preferences: shared.preferences,
    channelInstructions: shared.channelInstructions,
    threadAskers: shared.threadAskers,
    cancellations: shared.cancellations,
    messagesTabOpened: (user, channel) => suggestPrompts({ slack: shared.slack, redis, keyPrefix: prefix, logger }, user, channel),
    findRequest: (jobId) => queue.findOpen(jobId),
    findAsked: (jobId) => queue.requestOf(jobId),
    enqueueRerun: (request, model) => queue.addRerun(request, model, (id) => team.fairShare.enqueued(request.user, id)),
    removeWaiting: async (jobId) => {
      const removed = await queue.removeIfParked(jobId);
      // A removed job never finishes in a worker, so its turn is given back here, or the asker's
      // later questions would queue behind it for good.
      if (removed) await team.fairShare.finished(removed.user, { now: true }).catch((err: unknown) => logger.warn({ err, requestId: jobId }, 'could not release a cancelled question\'s turn'));
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
      adminStatus: () => readAdminStatus({ redis, config, queue, control: team.control, tokenStore }),
      recordFeedback: (f) => recordFeedback(redis, prefix, team.usage, f),
    },
    logger,
  };
  const listener = await startSlackListener({ config, logger, ops: shared.ops, redis, identity: shared.identity, deps });
  closers.add('slack-listener', () => listener.stop());
  const socketConnected = listener.socketConnected;
  if (socketConnected) shared.ops.readiness.push({ name: 'slack', check: () => (socketConnected() ? undefined : 'the Socket Mode connection to Slack is down') });
  return listener;
}
