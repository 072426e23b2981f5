/**
 * The one table of words people see in Slack, keyed by a stable code: each
 * entry takes the details it needs (typed) and returns the sentence. Failures
 * are keyed by errors.ts's codes (userMessageFor looks them up here); the
 * rest by what they tell. Modules build layout (blocks, lists); the sentences
 * come from here, so wording is reviewed, and changed, in one place.
 *
 * Words never include tokens, secrets or raw upstream bodies: the operator
 * gets those (redacted) in the log; a person gets what happened and what to
 * do. Anything a person or the gateway wrote goes through inertEcho.
 */

import { inertEcho } from './inert-text.ts';

/** What a failure's words may quote (errors.ts's MetisError carries them). */
export interface ErrorDetails {
  model?: string;
  models?: string[];
  option?: string;
  /** Only for messages that quote the gateway's own safe text (maintenance notices). */
  notice?: string;
  status?: number;
  /** Where a remembered model came from: the thread or the channel default. */
  where?: 'thread' | 'channel';
  /** How long a wait lasted, in minutes. */
  waitedMinutes?: number;
  /** How long the other side asked us to wait before asking again. */
  retryAfterMs?: number;
  /** A model's context window, and what a refused request needed, in tokens (when the gateway said). */
  contextTokens?: number;
  requestTokens?: number;
  /** A setting's name, for messages about a bad setting. */
  setting?: string;
  /** A text's length in characters (a question too long for a model). */
  chars?: number;
}

/** The first `most` items, described and comma-separated, then how many more there are. */
export function listSome<T>(items: readonly T[], most: number, describe: (item: T) => string): string {
  const more = items.length > most ? ` and ${items.length - most} more` : '';
  return `${items.slice(0, most).map(describe).join(', ')}${more}`;
}

function listModels(models: string[] | undefined): string {
  if (!models || models.length === 0) return 'none are available to this account right now';
  return listSome(models, 12, (m) => `\`${inertEcho(m)}\``);
}

const tokens = (n: number) => n.toLocaleString('en-US');
const tokenCount = (n: number | undefined) => (n === undefined ? 'fewer tokens' : `${tokens(n)} tokens`);

/** A question's size as counted: the token count is an upper bound, so it says "up to". */
function questionSize(d: ErrorDetails): string {
  const chars = d.chars !== undefined ? ` (${d.chars.toLocaleString('en-US')} characters)` : '';
  return `it may need up to ${tokenCount(d.requestTokens)}${chars}`;
}

export const USAGE_TEXT = [
  'Ask me anything: `@metis <your question>`. I answer in the thread, and a thread is our conversation.',
  'Pick a model with `-m <model>` (a unique part of the name is enough), e.g. `@metis -m 70b explain RDMA in two sentences`.',
].join('\n');

const INTERNAL =
  ':warning: Something went wrong on my side while answering. The operators have the details in the logs; please try again in a minute.';

/** Failures, by errors.ts's ErrorCode (errors.ts checks that every code has its words). */
const FAILURES = {
  empty_prompt: (_d: ErrorDetails) => `:wave: ${USAGE_TEXT}`,
  unknown_option: (d: ErrorDetails) =>
    `:grey_question: I don't know the option \`${inertEcho(d.option ?? '')}\`. Use \`-m <model>\` (or \`--model <model>\`) before your question.`,
  unknown_model: (d: ErrorDetails) =>
    `:grey_question: There is no model matching \`${inertEcho(d.model ?? '')}\` on Metis. Available: ${listModels(d.models)}.`,
  ambiguous_model: (d: ErrorDetails) => `:grey_question: \`${inertEcho(d.model ?? '')}\` matches several models: ${listModels(d.models)}. Use more of the name.`,
  model_gone: (d: ErrorDetails) =>
    d.where === 'channel'
      ? `:grey_question: This channel's default model \`${inertEcho(d.model ?? '')}\` is no longer offered by Metis. Pick one with \`-m <model>\`, or set a new default with \`/metis model <name>\`. Available: ${listModels(d.models)}.`
      : `:grey_question: This thread's model \`${inertEcho(d.model ?? '')}\` is no longer offered by Metis. Pick another with \`-m <model>\`. Available: ${listModels(d.models)}.`,
  cold_start_timeout: (d: ErrorDetails) =>
    `:hourglass: \`${inertEcho(d.model ?? 'The model')}\` did not become Live on Metis within ${d.waitedMinutes ?? 'the'} min, so I stopped waiting. ${
      d.models?.length ? `Live now: ${listModels(d.models)}; ask again with \`-m <model>\`` : 'No model is Live right now; try again later'
    }, or see \`/metis-models\`.`,
  no_models: (_d: ErrorDetails) =>
    ":warning: Metis lists no models for this account right now, so there is nothing to ask. An administrator can check the account's access.",
  access_not_configured: (_d: ErrorDetails) =>
    ":lock: I could not get access to Metis. An administrator needs to check the bot's Globus service account (details are in the bot's logs).",
  token_grant_failed: (_d: ErrorDetails) =>
    ":lock: I could not get access to Metis. An administrator needs to check the bot's Globus service account (details are in the bot's logs).",
  access_denied: (_d: ErrorDetails) =>
    ":lock: Metis refused the bot's credentials. An administrator needs to renew the bot's Metis access (details are in the bot's logs).",
  model_not_found: (d: ErrorDetails) => `:grey_question: Metis no longer offers \`${inertEcho(d.model ?? '')}\`. Pick another model with \`-m <model>\`.`,
  model_not_live: (d: ErrorDetails) =>
    `:zzz: \`${inertEcho(d.model ?? 'That model')}\` is not live on Metis right now. Try again later, or pick a live model with \`-m <model>\`.`,
  maintenance: (d: ErrorDetails) => `:construction: Metis is under maintenance${d.notice ? `: ${inertEcho(d.notice)}` : '.'} Please try again later.`,
  bad_request: (_d: ErrorDetails) => ':warning: Metis rejected the request as malformed. This is a bug in the bot; the operators have the details in the logs.',
  rate_limited: (_d: ErrorDetails) => ':hourglass: Metis is receiving too many requests from this team right now. Please try again in a minute.',
  token_rate_limited: (d: ErrorDetails) =>
    `:hourglass: The per-minute token limit for \`${inertEcho(d.model ?? 'this model')}\` is used up. Please try again in a minute.`,
  gateway_unavailable: (_d: ErrorDetails) => ':warning: The Metis inference service is not responding properly right now. Please try again in a few minutes.',
  gateway_timeout: (_d: ErrorDetails) => ':hourglass: Metis took too long to answer. Please try again, perhaps with a shorter question or another model.',
  stream_dropped: (_d: ErrorDetails) => ':warning: The connection to Metis dropped before the answer was complete. Please ask again.',
  model_error: (d: ErrorDetails) => `:warning: \`${inertEcho(d.model ?? 'The model')}\` hit an error while answering. Please ask again, or try another model.`,
  internal: (_d: ErrorDetails) => INTERNAL,
  slack_busy: (_d: ErrorDetails) => ':hourglass: Slack is asking me to slow down, so I could not check who may use me. Please try again in a minute.',
  context_too_long: (d: ErrorDetails) => {
    const limit =
      d.contextTokens !== undefined
        ? ` (it takes at most ${tokens(d.contextTokens)} tokens${d.requestTokens !== undefined ? `; this needed ${tokens(d.requestTokens)}` : ''})`
        : '';
    return `:straight_ruler: This conversation is too long for \`${d.model ?? 'the model'}\`${limit}. Start a new thread (mention me outside this one), or ask again here with a model that takes a longer context: \`-m <model>\`, see \`/metis-models\`.`;
  },
  default_model_unknown: (d: ErrorDetails) =>
    `:information_source: The bot's default model, \`${d.setting ?? 'METIS_DEFAULT_MODEL'}=${d.model ?? ''}\`, is not a model Metis offers, so I used \`${d.models?.[0] ?? 'another model'}\`. An administrator should fix the setting (\`/metis admin\` shows it).`,
  button_not_live_model: (_d: ErrorDetails) =>
    ":grey_question: That button does not name a model that is Live on Metis right now, so this channel's default is unchanged. `/metis-models` shows the current list.",
  button_not_this_request: (_d: ErrorDetails) => ':grey_question: That button does not belong to the question it names, so I left both alone.',
  question_too_long: (d: ErrorDetails) =>
    `:straight_ruler: Your question is too long for \`${inertEcho(d.model ?? 'this model')}\`: ${questionSize(d)}, and it takes ${tokenCount(d.contextTokens)} including its answer. I have not sent it. Live models that take it: ${listModels(d.models)}; ask again with \`-m <model>\`.`,
  question_too_long_everywhere: (d: ErrorDetails) =>
    `:straight_ruler: Your question is too long for every model Live on Metis right now: ${questionSize(d)}${
      d.models?.[0] ? `, and the largest window, \`${inertEcho(d.models[0])}\`'s, is ${tokenCount(d.contextTokens)} including its answer` : ''
    }. I have not sent it. Please shorten it, or ask in parts.`,
};

export const WORDS = {
  ...FAILURES,
  /** Anything that is not one of our errors. */
  unexpected: () => INTERNAL,

  // Who may use the bot (team/access-policy)
  refused_channel: () => ':wave: Sorry, I only answer in the channels my administrators have set up for me. Please ask in one of those, or ask them to add this one.',
  refused_not_member: () => ":wave: Sorry, I'm only available to members of this workspace. If you should have access, please ask an administrator to add you.",
  refused_not_allowed: () => ":wave: Sorry, I'm not set up to answer you yet. If you should have access, please ask an administrator of the Metis bot.",

  // Slash commands and buttons
  models_loading: () => ':hourglass: I am fetching the model list from Metis; try again in a few seconds.',
  models_loading_first: () => ':hourglass: I am fetching the model list from Metis for the first time; try again in a few seconds.',
  unknown_subcommand: (d: { sub: string }) => `:grey_question: I don't know \`/metis ${inertEcho(d.sub.slice(0, 40))}\`.`,
  admin_only: () => ":lock: Only the bot's administrators (METIS_ADMIN_USERS) can use `/metis admin`.",
  team_usage_admin_only: () => ":lock: Only the bot's administrators (METIS_ADMIN_USERS) can see the team's usage. `/metis usage` shows yours.",
  paused_by_admin: () => ':double_vertical_bar: Paused: new questions wait in the queue (each is told so) until `/metis admin resume`.',
  resumed_by_admin: () => ':arrow_forward: Resumed: waiting questions are being answered.',
  cancel_already_done: () => 'That question has already been answered or cancelled.',
  cancel_not_allowed: (d: { asker: string }) => `Only <@${d.asker}>, who asked, or an administrator of the bot can cancel this wait.`,
  cancelled_by: (d: { user: string }) => `:no_entry_sign: _Cancelled by <@${d.user}>._`,
  stop_not_allowed: (d: { asker: string }) => `Only <@${d.asker}>, who asked, or an administrator of the bot can stop this answer.`,
  stop_already_done: () => 'That answer has already finished.',
  rerun_not_found: () => 'I no longer have that question (answers can be asked again for an hour). Please ask it again.',
  rerun_not_allowed: (d: { asker: string }) => `Only <@${d.asker}>, who asked, or an administrator of the bot can ask this question again.`,
  rerun_model_not_live: (d: { model: string }) => `\`${inertEcho(d.model)}\` is not Live on Metis right now; pick another model.`,
  feedback_thanks: () => 'Thanks for the feedback.',
  // Controls under an answer (button labels, and what screen readers say of the feedback buttons)
  control_stop: () => 'Stop',
  control_regenerate: () => 'Regenerate',
  control_other_model: () => 'Ask another model',
  control_good: () => 'Good answer',
  control_bad: () => 'Bad answer',
  control_good_label: () => 'This answer was helpful',
  control_bad_label: () => 'This answer was not helpful',
  feedback_counts: (d: { rows?: { model: string; up: number; down: number }[] }) =>
    !d.rows?.length
      ? '*Feedback (this month):* none yet'
      : `*Feedback (this month):* ${d.rows.map((r) => `\`${inertEcho(r.model)}\` :+1: ${r.up} :-1: ${r.down}`).join(', ')}`,

  // A channel's default model; `model` is a name from the catalog, never a person's own words
  channel_default_set: (d: { user: string; model: string; status?: string }) =>
    `<@${d.user}> set this channel's default model to \`${inertEcho(d.model)}\`${d.status && d.status !== 'Live' ? ` (${d.status} on Metis right now)` : ''}.`,
  channel_default_cleared: (d: { user: string }) => `<@${d.user}> cleared this channel's default model.`,
  channel_default_is: (d: { model: string }) => `This channel's default model is \`${inertEcho(d.model)}\`. Change it with \`/metis model <name>\`, or \`/metis model clear\`.`,
  channel_default_none: (d: { fallback: string }) => `This channel has no default model; I use ${d.fallback}.`,
  channel_default_none_set_one: (d: { fallback: string }) => `This channel has no default model; I use ${d.fallback}. Set one with \`/metis model <name>\`.`,
  channel_default_here: (d: { model: string }) => `This channel's default model: \`${inertEcho(d.model)}\`.`,
  // A channel's instructions for the model (/metis instructions); `text` is a person's words, shown inert
  instructions_here: (d: { text: string; by: string }) => `This channel's instructions for me (set by <@${d.by}>): ${inertEcho(d.text)}`,
  instructions_none: () => 'This channel has no instructions for me. Set some with `/metis instructions <text>` (e.g. "answer as a Fortran reviewer").',
  instructions_set: (d: { user: string; text: string }) => `<@${d.user}> set this channel's instructions for me: ${inertEcho(d.text)}`,
  instructions_cleared: (d: { user: string }) => `<@${d.user}> cleared this channel's instructions for me.`,
  instructions_too_long: (d: { chars: number; max: number }) =>
    `:straight_ruler: Channel instructions can be at most ${d.max} characters; these are ${d.chars}. Please shorten them; nothing was changed.`,
  // The message shortcuts. The summary's instruction and a question's framing are read by the model.
  summary_instruction: () =>
    'Summarize this thread for someone who has not read it: the question or topic, the main points and who made them, what was decided, and what is still open. Be brief.',
  ask_about_message: (d: { question: string; author?: string; text: string }) =>
    `${d.question}\n\nThe message this is about${d.author ? `, from <@${d.author}>` : ''}:\n"""\n${d.text}\n"""`,
  ask_modal: () => ({ title: 'Ask Metis', submit: 'Ask', question: 'Your question about this message', model: 'Model', modelPlaceholder: 'The usual one here' }),
  ask_no_live_model: () => 'No model is Live on Metis right now: your question waits until one is.',
  ask_question_missing: () => 'Please write a question.',
  shortcut_message_gone: () => 'That message is no longer there (deleted, or I cannot see it).',
  shortcut_not_in_channel: () => 'I am not in this channel, so I cannot answer there. Invite me with `/invite @metis`, then try again.',
  fallback_first_live: () => 'the first Live model',
  fallback_default_unknown: (d: { configured: string }) =>
    `the first Live model (the bot's default, \`METIS_DEFAULT_MODEL=${inertEcho(d.configured)}\`, is not a model Metis offers; an administrator should fix it)`,

  // Model status (views/models)
  maintenance_heading: (d: { notice?: string }) => `:construction: *Metis is under maintenance*${d.notice ? `: ${inertEcho(d.notice)}` : '.'}`,
  status_stale: (d: { age: string }) => `:warning: Metis could not be reached just now; this is the last known status, from ${d.age} ago.`,
  models_list_hint: () => 'Ask with `@metis -m <model> …` (a unique part of the name is enough). `/metis-models <model>` shows one model.',
  status_unknown: () => ':grey_question: *status unknown*',
  readiness_live: () => 'Ready now.',
  readiness_offline: () => 'Not loaded right now; a question to it waits while Metis loads it.',
  readiness_starting: () => 'Being loaded; a question to it waits until it is Live.',
  readiness_queued: () => 'Waiting for resources on Metis; a question to it waits until it is Live.',
  use_model_hint: (d: { fragment: string; isDefault: boolean }) =>
    `Use it: \`@metis -m ${inertEcho(d.fragment)} <your question>\`${d.isDefault ? ' (it is already the default here)' : ''}.`,
  help_lines: (d: { instructionsMax: number }) => [
    '*Metis in Slack*',
    '• `@metis <question>` in a channel, or a DM to me: I answer in the thread; the thread is the conversation.',
    '• `@metis -m <model> <question>`: pick a model (a unique part of its name is enough). A thread keeps the model last named with `-m` in it.',
    '• `/metis-models`: every model and whether it is Live, Starting, Queued or Offline (`/metis-models public` to share it).',
    "• `/metis model <name>`: set this channel's default model; `/metis model` shows it; `/metis model clear` removes it.",
    `• \`/metis instructions <text>\`: instructions I follow in this channel (at most ${d.instructionsMax} characters); \`/metis instructions clear\` removes them.`,
    '• In a thread where I answered you, reply without `@metis` and I answer you again; others in the thread still mention me.',
    '• On any message, *More actions* → *Ask Metis about this* or *Summarize thread*: the answer goes in its thread.',
  ],

  // Usage, admin status and the App Home (views/team)
  no_personal_limits: () => 'No personal limits are set.',
  admin_access_problem: (d: { since: string; detail: string; fix: string }) =>
    `:rotating_light: needs a person since ${d.since} ago: ${inertEcho(d.detail)}\nFix: ${inertEcho(d.fix)}`,
  admin_access_working: (d: { mode: string; expiresIn?: string }) => `:white_check_mark: working (${d.mode}${d.expiresIn ? `; token expires in ${d.expiresIn}` : ''})`,
  default_model_setting_wrong: (d: { configured: string; suggestion?: string }) =>
    `:warning: \`METIS_DEFAULT_MODEL=${d.configured}\` is not a model Metis offers${
      d.suggestion ? ` (did you mean \`${d.suggestion}\`?)` : ''
    }; questions without a model use the first Live model. Fix the setting and restart the bot.`,
  home_models_not_fetched: () => '*Models:* not fetched yet; try `/metis-models`.',
  home_no_defaults: () => '*Channel defaults you set:* none (`/metis model <name>` in a channel)',
  home_ask_hint: () => 'Ask with `@metis <question>` in a channel, or message me here.',

  // Alerts to the admins (reply/admin-alerts)
  access_needs_person: (d: { detail: string; fix: string; waitMinutes: number }) =>
    [
      ':rotating_light: **Metis access needs an administrator.**',
      `**Cause:** ${d.detail}`,
      `**Fix:** ${d.fix}`,
      `Until then, questions wait up to ${d.waitMinutes} min and are answered as soon as access works.`,
    ].join('\n'),
  access_recovered: (d: { downMinutes: number; code: string }) => `:white_check_mark: **Metis access works again** (it was down ${d.downMinutes} min: ${d.code}).`,
  relogin_due: (d: { madeOn: string; lapsesOn: string; daysLeft: number }) =>
    [
      ':hourglass: **The Metis login this bot uses is due for renewal.**',
      `ALCF asks for a new login periodically; this one was made ${d.madeOn} and lapses about ${d.lapsesOn} (in ${d.daysLeft} day${d.daysLeft === 1 ? '' : 's'}).`,
      '**Fix:** run `metis-bot auth login` (or `metis-bot auth import FILE`) before then, so questions keep being answered.',
    ].join('\n'),

  // Usage limits (team/limits); `when` is e.g. "in 12 min (14:00 UTC)"
  limit_user_hour: (d: { limit: number; when: string }) => `:hourglass: You've reached your limit of ${d.limit} questions an hour. It resets ${d.when}.`,
  limit_channel_hour: (d: { limit: number; when: string }) => `:hourglass: This channel has reached its limit of ${d.limit} questions an hour. It resets ${d.when}.`,
  limit_user_tokens: (d: { limit: number; when: string }) => `:hourglass: You've used your ${tokens(d.limit)} tokens for today. The limit resets ${d.when}.`,

  // Notes on a question while it waits or runs (queue/answer*), to be routed here from there
  waiting_for_access: () => ":lock: _Metis access needs an administrator, and they have been told. I'll answer here as soon as it works again._",
  waiting_for_maintenance: (d: { notice?: string }) => `:construction: _Metis is under maintenance${d.notice ? `: ${d.notice}` : ''}. I'll answer here when it is back._`,
  waiting_for_model: (d: { model: string; status: string }) =>
    `:hourglass_flowing_sand: _\`${d.model}\` is ${d.status} on Metis${d.status === 'Offline' ? ' (it is loaded when asked for)' : ''}; I'll answer here when it is Live._`,
  waiting_paused: () => ':double_vertical_bar: _Questions are paused by an administrator. Yours is queued and will be answered when they resume._',
  waiting_turn: () => '_Your earlier questions are being answered first; this one is next._',
  waiting_team_token_budget: (d: { model: string; seconds: number }) =>
    `:hourglass: _The team's per-minute token budget for \`${d.model}\` is used up; your question is next in line (about ${d.seconds} s)._`,
  waiting_token_limit: (d: { model: string; seconds: number }) =>
    `:hourglass: _The per-minute token limit for \`${d.model}\` is used up; your question is next in line (about ${d.seconds} s)._`,
  status_working: () => '_Working on it…_',
  status_trying_again: () => '_Trying again…_',
  status_asking: (d: { model: string }) => `_Asking \`${d.model}\`…_`,
  status_gateway_busy: (d: { seconds: number }) => `_Metis is busy right now; trying again in ${d.seconds} s…_`,
  status_waiting: () => '_Waiting…_',
  status_thinking: (d: { model: string }) => `_\`${d.model}\` is thinking…_`,
  answer_stopped: (d: { byAsker: boolean }) => (d.byAsker ? ':black_square_for_stop: _Stopped._' : ':black_square_for_stop: _Stopped by an administrator._'),
  thought_for: (d: { seconds: number }) => `_Thought for ${d.seconds} s._`,
  // Slack's own status line under a thread (assistant.threads.setStatus): plain text, no markup
  thread_status_queued: (d: { ahead: number }) => (d.ahead > 0 ? `${d.ahead} question${d.ahead === 1 ? '' : 's'} ahead` : 'next in line'),
  thread_status_asking: (d: { model: string }) => `asking ${d.model}…`,
  thread_status_thinking: () => 'thinking…',
  // The Messages tab (agent_view) and its conversations
  suggested_prompts_title: () => 'Try asking',
  suggested_prompts: () => [
    { title: 'Explain a concept', message: 'Explain RDMA in two paragraphs.' },
    { title: 'Review code', message: 'What does this shell script do, and is it safe?' },
    { title: 'Which models?', message: 'Which models can you use right now, and which is best for code?' },
  ],
  waiting_gateway_busy: () => '_Metis is busy; your question is next in line…_',
  empty_answer: () => '_(The model returned an empty answer.)_',
  /** The notice used when the gateway says "maintenance" without one of its own. */
  maintenance_default_notice: () => 'Metis is under maintenance.',
};

/** thought_for's line at the head of an answer, as read back from the thread (it is not part of what the model said). */
export const THOUGHT_LINE = /^_Thought for \d+ s\._\s*/;
/** answer_stopped's line at the end of a stopped answer, likewise the bot's and not the model's. */
export const STOPPED_LINE = /\s*:black_square_for_stop: _Stopped(?: by an administrator)?\._$/;

/** The code of a sentence in the table. */
export type WordCode = keyof typeof WORDS;
