/**
 * Every Redis key the bot writes, in one list: what each holds and how long
 * it lives. All keys start with the queue prefix (METIS_QUEUE_PREFIX), so two
 * bots can share one Redis. Modules build their keys with `redisKeys(prefix)`
 * rather than by hand; test/redis-keys.test.ts fails when src/ builds a key
 * this list does not name, or the list names a key nothing builds.
 */

/** One kind of key: `<prefix>` and the `<placeholders>` stand for the parts that vary. */
export interface RedisKeyDoc {
  pattern: string;
  holds: string;
  /** How long it lives, and what sets that. */
  ttl: string;
}

export const REDIS_KEYS: readonly RedisKeyDoc[] = [
  { pattern: '<prefix>:answers:*', holds: "BullMQ's answer queue: one job per question (its id from the Slack event), its state lists and events", ttl: 'finished jobs kept 1 h, failed ones 7 days (removeOnComplete/removeOnFail)' },
  { pattern: '<prefix>:model-status:*', holds: "BullMQ's queue for the fleet's one repeating model-status refresh", ttl: 'while the bot runs; finished refresh jobs are dropped' },
  { pattern: '<prefix>:auth:access', holds: "the Metis access (and refresh) token, encrypted with TOKEN_ENCRYPTION_KEYS, with its expiry and who logged in", ttl: 'none: replaced on renewal, deleted by `metis-bot auth logout`' },
  { pattern: '<prefix>:auth:renew-lock', holds: 'which process is renewing the access token right now', ttl: '30 s (lockTtlMs)' },
  { pattern: '<prefix>:auth:rejected', holds: 'a fingerprint (not the token) of the last token the gateway refused, so it is not used again', ttl: '1 h' },
  { pattern: '<prefix>:auth:needs-person', holds: 'access trouble only a person can fix (code, detail, fix, since), for alerts, /metis admin and /readyz', ttl: 'none: deleted once access works again' },
  { pattern: '<prefix>:auth:probe', holds: 'which process may probe broken access next', ttl: 'the probe interval' },
  { pattern: '<prefix>:auth:relogin-warned:<loggedInAt>', holds: 'that the admins were warned this login will lapse', ttl: 'the login lifetime (METIS_LOGIN_MAX_AGE_DAYS)' },
  { pattern: '<prefix>:models:snapshot', holds: 'the last model list and status fetched from the gateway (JSON)', ttl: 'none: replaced by each refresh, kept as the last known' },
  { pattern: '<prefix>:models:refresh-lock', holds: 'which process is fetching the model status right now', ttl: '20 s' },
  { pattern: '<prefix>:context-window:learned', holds: "hash: model → its context window as the gateway revealed it when refusing a prompt (tokens, with when), when lower than what it advertises; read by each process once per 5 s", ttl: '24 h after the last one learned' },
  { pattern: '<prefix>:models:maintenance-notice', holds: "the gateway's last maintenance notice", ttl: '15 min; deleted when a refresh shows no maintenance' },
  { pattern: '<prefix>:thread-model:<channel>:<threadTs>', holds: 'the model a thread chose with -m', ttl: '30 days, renewed at each use' },
  { pattern: '<prefix>:channel-model', holds: "hash: channel id → that channel's default model (/metis model)", ttl: 'none' },
  { pattern: '<prefix>:channel-instructions', holds: "hash: channel id → that channel's instructions for the model and who set them (JSON; /metis instructions)", ttl: 'none: deleted by /metis instructions clear' },
  { pattern: '<prefix>:thread-asker:<channel>:<threadTs>', holds: 'who the bot last answered in a channel thread: their replies there are answered without a mention', ttl: '30 days, renewed at each question' },
  { pattern: '<prefix>:cancelled:<jobId>', holds: 'who cancelled a question', ttl: '24 h' },
  { pattern: '<prefix>:stop', holds: 'pub/sub channel (nothing stored): a request to stop a running answer, heard by every worker', ttl: 'none: messages are not kept' },
  { pattern: '<prefix>:answer-message:<channel>:<ts>', holds: "the request an answer's message belongs to (Slack's own stop names messages, not requests)", ttl: '24 h' },
  { pattern: '<prefix>:feedback:<day>', holds: 'hash: per model, thumbs up and down that day (UTC)', ttl: '400 days' },
  { pattern: '<prefix>:feedback-given:<requestId>:<user>', holds: "a person's last rating of an answer, so a second click changes it rather than counting twice", ttl: '30 days' },
  { pattern: '<prefix>:reruns:<jobId>', holds: 'how many times an answer was regenerated (the next one\'s number)', ttl: '30 days' },
  { pattern: '<prefix>:slack:status-calls:<minute>', holds: "assistant.threads.setStatus calls this minute, fleet-wide (its budget)", ttl: '2 min' },
  { pattern: '<prefix>:slack:prompts-set:<user>', holds: "that a person's Messages tab was given its suggested prompts lately", ttl: '10 min' },
  { pattern: '<prefix>:paused', holds: 'that an admin paused the queue (by whom, when; /metis pause)', ttl: 'none: deleted by /metis resume' },
  { pattern: '<prefix>:slack-user:<user>', holds: "a Slack user's facts the access policy reads (guest, deleted, bot, team)", ttl: '1 h' },
  { pattern: '<prefix>:slack-usergroup:<group>', holds: 'set: the members of an allowed Slack user group', ttl: '5 min' },
  { pattern: '<prefix>:slack-name:<user>', holds: "a Slack user's display name, for thread history", ttl: '1 h' },
  { pattern: '<prefix>:slack-name:paused', holds: 'that Slack rate-limited name look-ups, so none are made for a while', ttl: "Slack's Retry-After" },
  { pattern: '<prefix>:slack:name-lookups:<minute>', holds: 'users.info calls for display names this minute, fleet-wide (their budget)', ttl: '2 min' },
  { pattern: '<prefix>:slack:seen-signature:<signature>', holds: 'a signed HTTP request already accepted, so a replay is refused', ttl: 'twice the allowed clock skew (10 min)' },
  { pattern: '<prefix>:slack:streaming', holds: 'hash: worker → how many answers it is streaming and how many hold an edited message, for pacing Slack calls', ttl: 'two publishing periods after the last publish' },
  { pattern: '<prefix>:slack:post-slot:<channel>', holds: "when the fleet's next message in a channel may be posted (Slack allows about one a second per channel)", ttl: 'a second past that slot' },
  { pattern: '<prefix>:fair:pending', holds: 'hash: user → questions waiting, for fair-share priorities', ttl: '24 h after the last change' },
  { pattern: '<prefix>:fair:seen:<jobId>', holds: 'that a question was counted as pending once', ttl: '1 h' },
  { pattern: '<prefix>:fair:running:<user>', holds: "sorted set: a user's questions being answered now", ttl: '15 min after the last claim' },
  { pattern: '<prefix>:limit:user-req:<user>:<hour>', holds: "a user's questions this hour", ttl: '2 h' },
  { pattern: '<prefix>:limit:channel-req:<channel>:<hour>', holds: "a channel's questions this hour", ttl: '2 h' },
  { pattern: '<prefix>:limit:user-tokens:<user>:<day>', holds: "a user's tokens today (UTC)", ttl: '2 days' },
  { pattern: '<prefix>:budget:requests', holds: 'sorted set: gateway requests in the sliding window, shared by the fleet', ttl: 'the window' },
  { pattern: '<prefix>:budget:paused', holds: 'until when the gateway asked the fleet to wait (429)', ttl: 'the wait' },
  { pattern: '<prefix>:budget:last', holds: 'when the last gateway request was let through, to space them evenly', ttl: 'the window' },
  { pattern: '<prefix>:budget:tokens:<model>:<minute>', holds: "a model's tokens this minute", ttl: '2 min' },
  { pattern: '<prefix>:budget:tokens-paused:<model>', holds: "that a model's per-minute token limit is used up", ttl: 'the wait' },
  { pattern: '<prefix>:usage:<day>', holds: 'hash: per user, channel and model, questions and tokens that day (UTC)', ttl: '400 days' },
  { pattern: '<prefix>:audit', holds: 'stream: one entry per question (who, where, model, tokens; the text only with METIS_AUDIT_CONTENT)', ttl: 'entries trimmed after METIS_AUDIT_RETENTION_DAYS' },
];

/** The keys of one bot (one prefix), built the one way the list above names them. */
export function redisKeys(prefix: string) {
  return {
    authAccess: `${prefix}:auth:access`,
    authRenewLock: `${prefix}:auth:renew-lock`,
    authRejected: `${prefix}:auth:rejected`,
    authNeedsPerson: `${prefix}:auth:needs-person`,
    authProbe: `${prefix}:auth:probe`,
    reloginWarned: (loggedInAt: number) => `${prefix}:auth:relogin-warned:${loggedInAt}`,
    modelsSnapshot: `${prefix}:models:snapshot`,
    modelsRefreshLock: `${prefix}:models:refresh-lock`,
    modelsMaintenanceNotice: `${prefix}:models:maintenance-notice`,
    /** Hash: model → the smaller window the gateway taught, with when (one key, read whole once per interval). */
    contextWindowsLearned: () => `${prefix}:context-window:learned`,
    threadModel: (channel: string, threadTs: string) => `${prefix}:thread-model:${channel}:${threadTs}`,
    channelModel: `${prefix}:channel-model`,
    channelInstructions: `${prefix}:channel-instructions`,
    threadAsker: (channel: string, threadTs: string) => `${prefix}:thread-asker:${channel}:${threadTs}`,
    cancelled: (jobId: string) => `${prefix}:cancelled:${jobId}`,
    stopChannel: `${prefix}:stop`,
    answerMessage: (channel: string, ts: string) => `${prefix}:answer-message:${channel}:${ts}`,
    feedbackDay: (day: string) => `${prefix}:feedback:${day}`,
    feedbackGiven: (requestId: string, user: string) => `${prefix}:feedback-given:${requestId}:${user}`,
    reruns: (jobId: string) => `${prefix}:reruns:${jobId}`,
    statusCalls: (minute: number) => `${prefix}:slack:status-calls:${minute}`,
    promptsSet: (user: string) => `${prefix}:slack:prompts-set:${user}`,
    paused: `${prefix}:paused`,
    slackUser: (user: string) => `${prefix}:slack-user:${user}`,
    slackUsergroup: (group: string) => `${prefix}:slack-usergroup:${group}`,
    slackName: (user: string) => `${prefix}:slack-name:${user}`,
    slackNamePaused: `${prefix}:slack-name:paused`,
    nameLookups: (minute: number) => `${prefix}:slack:name-lookups:${minute}`,
    seenSignature: (signature: string) => `${prefix}:slack:seen-signature:${signature}`,
    slackStreaming: `${prefix}:slack:streaming`,
    slackPostSlot: (channel: string) => `${prefix}:slack:post-slot:${channel}`,
    fairPending: `${prefix}:fair:pending`,
    fairSeen: (jobId: string) => `${prefix}:fair:seen:${jobId}`,
    fairRunning: (user: string) => `${prefix}:fair:running:${user}`,
    limitUserRequests: (user: string, hour: string) => `${prefix}:limit:user-req:${user}:${hour}`,
    limitChannelRequests: (channel: string, hour: string) => `${prefix}:limit:channel-req:${channel}:${hour}`,
    limitUserTokens: (user: string, day: string) => `${prefix}:limit:user-tokens:${user}:${day}`,
    budgetRequests: `${prefix}:budget:requests`,
    budgetPaused: `${prefix}:budget:paused`,
    budgetLast: `${prefix}:budget:last`,
    budgetTokens: (model: string, minute: number) => `${prefix}:budget:tokens:${model}:${minute}`,
    budgetTokensPaused: (model: string) => `${prefix}:budget:tokens-paused:${model}`,
    usageDay: (day: string) => `${prefix}:usage:${day}`,
    audit: `${prefix}:audit`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
