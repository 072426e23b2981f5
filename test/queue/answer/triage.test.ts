/** The order in which a failure after the gate is judged: one row per rule, and what each row must not catch. */
import { describe, expect, it } from 'vitest';
import { GlobusError } from '../../../src/auth/globus.ts';
import { AccessTokenRejected, MetisError } from '../../../src/errors.ts';
import { classify, type Facts, LimitReached, type Rule } from '../../../src/queue/answer/triage.ts';
import { AnswerAbandoned, ConversationGone } from '../../../src/reply/reply.ts';

const base: Facts = { aborted: false, hasText: false, attemptsLeft: true, model: 'm' };
const retryable = (code: MetisError['code']) => new MetisError(code, code, {}, true);
const redisDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

const rows: [string, unknown, Partial<Facts>, Rule][] = [
  ['the lock was lost (aborted), whatever the error', retryable('rate_limited'), { aborted: true }, 'handed-over'],
  ['the answer was abandoned', new AnswerAbandoned(), {}, 'handed-over'],
  ['the conversation is gone, even with text shown', new ConversationGone('channel_not_found'), { hasText: true }, 'conversation-gone'],
  ['a usage limit', new LimitReached('limit'), {}, 'limited'],
  ['gateway 429 before any text', retryable('rate_limited'), {}, 'gateway-busy'],
  ['gateway 429 after text: told, not parked', retryable('rate_limited'), { hasText: true }, 'fail'],
  ['token limit before any text', retryable('token_rate_limited'), {}, 'token-limit'],
  ['token limit with no model chosen: an ordinary retry', retryable('token_rate_limited'), { model: undefined }, 'retry'],
  ['access token rejected', new AccessTokenRejected(false, 'policy'), {}, 'access'],
  ['Globus needs a person', new GlobusError('invalid_client', true, undefined), {}, 'access'],
  ['access not configured', new MetisError('access_not_configured', 'none'), {}, 'access'],
  ['model not live', retryable('model_not_live'), {}, 'model'],
  ['maintenance', new MetisError('maintenance', 'down'), {}, 'model'],
  ['model not live, no model known', new MetisError('model_not_live', 'x'), { model: undefined }, 'fail'],
  ['Redis down with attempts left', redisDown, {}, 'redis-retry'],
  ['Redis down on the last attempt', redisDown, { attemptsLeft: false }, 'fail'],
  ['a retryable gateway error', retryable('gateway_unavailable'), {}, 'retry'],
  ['a retryable error on the last attempt', retryable('gateway_unavailable'), { attemptsLeft: false }, 'fail'],
  ['a retryable error after text', retryable('stream_dropped'), { hasText: true }, 'fail'],
  ['anything else', new Error('bug'), {}, 'fail'],
];

describe('classify', () => {
  it.each(rows)('%s', (_, err, facts, rule) => {
    expect(classify(err, { ...base, ...facts })).toBe(rule);
  });

  it('a wait that did not park goes on down the list from its own row', () => {
    // Waited long enough for access: the access error is then told, not waited on again.
    expect(classify(new AccessTokenRejected(false, 'policy'), base, 'access')).toBe('fail');
    // A model wait that gave up with a retryable error is retried like any other.
    expect(classify(retryable('model_not_live'), base, 'model')).toBe('retry');
    expect(classify(new MetisError('cold_start_timeout', 'slow'), base, 'model')).toBe('fail');
  });
});
