/**
 * The bot's Messages tab as an agent (slack.md §2.2, `agent_view`): suggested
 * prompts when a person opens it, and a title for each DM conversation from
 * its first question. Both are extras: an app not set up as an agent (Slack
 * answers `not_agent_app`) or an older workspace simply goes without.
 */
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { redisKeys } from '../redis-keys.ts';
import { WORDS } from '../words.ts';
import { slackFailure } from './web-client.ts';

/** Prompts are set again for the same person at most this often (the tab fires an event at every opening). */
const PROMPTS_EVERY_SECONDS = 600;
/** Slack shows short titles; longer ones are cut at a word. */
const TITLE_CHARS = 60;

/** Sets the suggested prompts of a person's DM with the bot (no thread: the Messages tab itself). */
export async function suggestPrompts(deps: { slack: WebClient; redis: Redis; keyPrefix: string; logger: Logger }, user: string, channel: string): Promise<void> {
  const fresh = await deps.redis.set(redisKeys(deps.keyPrefix).promptsSet(user), '1', 'EX', PROMPTS_EVERY_SECONDS, 'NX');
  if (fresh !== 'OK') return;
  try {
    await deps.slack.assistant.threads.setSuggestedPrompts({
      channel_id: channel,
      title: WORDS.suggested_prompts_title(),
      prompts: WORDS.suggested_prompts().slice(0, 4),
    } as Parameters<WebClient['assistant']['threads']['setSuggestedPrompts']>[0]);
  } catch (err) {
    deps.logger.debug({ slackError: slackFailure(err)?.error ?? String(err) }, 'Slack refused suggested prompts');
  }
}

/** A conversation's title from its first question: plain words, Slack markup removed, cut short. */
export function titleOf(question: string): string {
  const plain = question
    .replace(/<[^>|]+\|([^>]+)>/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*_~>#]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= TITLE_CHARS) return plain;
  const cut = plain.slice(0, TITLE_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), TITLE_CHARS / 2)).trimEnd()}…`;
}

/** Titles a DM conversation (the question's thread) after its first question. */
export async function titleConversation(slack: WebClient, logger: Logger, channel: string, threadTs: string, question: string): Promise<void> {
  const title = titleOf(question);
  if (!title) return;
  try {
    await slack.assistant.threads.setTitle({ channel_id: channel, thread_ts: threadTs, title });
  } catch (err) {
    logger.debug({ slackError: slackFailure(err)?.error ?? String(err) }, 'Slack refused a conversation title');
  }
}
