/**
 * Who may use the bot: allow lists of teams, channels, users and user groups
 * (an empty list allows everyone), and guests or external (Slack Connect)
 * users only when explicitly allowed. What Slack says about a user is cached
 * in Redis, so a check costs a Slack call at most once per hour per user,
 * and in the process for a minute, so a busy asker costs Redis nothing per
 * question.
 */
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { displayName, NAME_TTL_SECONDS } from '../reply/user-names.ts';
import type { Config } from '../config.ts';
import { MetisError } from '../errors.ts';
import { type SlackFailure, slackFailure } from '../reply/web-client.ts';
import { redisKeys } from '../redis-keys.ts';
import { WORDS } from '../words.ts';

export interface Asker {
  user: string;
  channel: string;
  /** The workspace the event came from. */
  teamId?: string;
}

export type PolicyDecision = { allowed: true } | { allowed: false; reason: 'team' | 'channel' | 'user' | 'guest' | 'external' };

interface UserFacts {
  guest: boolean;
  teamId?: string;
  external: boolean;
}

const USER_TTL_SECONDS = 3600;
const GROUP_TTL_SECONDS = 300;
/** How long this process trusts what it last read about a user (Redis keeps it an hour). */
const LOCAL_USER_MS = 60_000;
/** Users remembered in the process at most (then it starts again: a bound, not a working set). */
const LOCAL_USERS_MAX = 10_000;

export class AccessPolicy {
  private readonly localFacts = new Map<string, { facts: UserFacts; until: number }>();

  constructor(
    private readonly allow: Config['allow'],
    private readonly slack: WebClient,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /**
   * Whether `a` may ask. When Slack could not tell us, throws MetisError:
   * `slack_busy` (retryable, with Slack's wait) when it is rate limited or
   * unreachable, `internal` otherwise; Redis errors are thrown as they are.
   */
  async check(a: Asker): Promise<PolicyDecision> {
    try {
      return await this.decide(a);
    } catch (err) {
      // Redis trouble is the caller's to handle as such (retried); Slack's errors become ours.
      const f = slackFailure(err);
      throw f ? checkFailed(f, err) : err;
    }
  }

  private async decide(a: Asker): Promise<PolicyDecision> {
    const { teams, channels, users, usergroups } = this.allow;
    const listed = users.includes(a.user);
    if (teams.length && a.teamId && !teams.includes(a.teamId)) return { allowed: false, reason: 'team' };
    if (channels.length && !channels.includes(a.channel)) return { allowed: false, reason: 'channel' };
    const facts = await this.userFacts(a.user, a.teamId);
    if (facts.external && !listed && !(facts.teamId && teams.includes(facts.teamId))) return { allowed: false, reason: 'external' };
    if (facts.guest && !listed) return { allowed: false, reason: 'guest' };
    if (users.length || usergroups.length) {
      if (listed) return { allowed: true };
      for (const group of usergroups) if (await this.inGroup(a.user, group)) return { allowed: true };
      return { allowed: false, reason: 'user' };
    }
    return { allowed: true };
  }

  private async userFacts(user: string, workspace: string | undefined): Promise<UserFacts> {
    const local = this.localFacts.get(user);
    if (local && local.until > Date.now()) return local.facts;
    const facts = await this.sharedUserFacts(user, workspace);
    if (this.localFacts.size >= LOCAL_USERS_MAX) this.localFacts.clear();
    this.localFacts.set(user, { facts, until: Date.now() + LOCAL_USER_MS });
    return facts;
  }

  private async sharedUserFacts(user: string, workspace: string | undefined): Promise<UserFacts> {
    const key = redisKeys(this.keyPrefix).slackUser(user);
    const cached = await this.redis.get(key);
    if (cached) return JSON.parse(cached) as UserFacts;
    let facts: UserFacts = { guest: false, external: false };
    try {
      const res = await this.slack.users.info({ user });
      const u = res.user as { is_restricted?: boolean; is_ultra_restricted?: boolean; is_stranger?: boolean; team_id?: string } | undefined;
      // The same answer names the asker: remembered for the model's context, so that is not a second users.info.
      void this.redis.set(redisKeys(this.keyPrefix).slackName(user), displayName(res.user, user), 'EX', NAME_TTL_SECONDS).catch(() => undefined);
      facts = {
        guest: Boolean(u?.is_restricted || u?.is_ultra_restricted),
        teamId: u?.team_id,
        external: Boolean(u?.is_stranger || (workspace && u?.team_id && u.team_id !== workspace)),
      };
    } catch (err) {
      // A user Slack will not describe to us (not in our workspace) is treated as external.
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === 'user_not_found' || code === 'user_not_visible') facts = { guest: false, external: true };
      else throw err;
    }
    await this.redis.set(key, JSON.stringify(facts), 'EX', USER_TTL_SECONDS);
    return facts;
  }

  private async inGroup(user: string, group: string): Promise<boolean> {
    const key = redisKeys(this.keyPrefix).slackUsergroup(group);
    if (!(await this.redis.exists(key))) {
      const res = await this.slack.usergroups.users.list({ usergroup: group });
      const members = res.users ?? [];
      const multi = this.redis.multi().del(key);
      // An empty group still gets a key, so it is not fetched on every check.
      multi.sadd(key, '__none__', ...members).expire(key, GROUP_TTL_SECONDS);
      await multi.exec();
    }
    return (await this.redis.sismember(key, user)) === 1;
  }
}

/** Slack's errors while checking, as ours: a busy Slack is worth asking again later, anything else is not. */
function checkFailed(f: SlackFailure, err: unknown): MetisError {
  const busy = f.error === 'ratelimited' || f.error === 'request_failed';
  return new MetisError(
    busy ? 'slack_busy' : 'internal',
    `allow-list check failed: Slack said ${f.error}`,
    f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {},
    busy,
    { cause: err },
  );
}

export function refusalText(reason: Exclude<PolicyDecision, { allowed: true }>['reason']): string {
  switch (reason) {
    case 'channel':
      return WORDS.refused_channel();
    case 'guest':
    case 'external':
      return WORDS.refused_not_member();
    default:
      return WORDS.refused_not_allowed();
  }
}
