/**
 * Proof that nothing happened, without a fixed sleep. Events are acknowledged
 * only once the listener has handled them (queued or dropped), so after the
 * deliveries under test a later question is asked and answered, and then the
 * queue is waited on until it holds nothing waiting, running or parked: every
 * job the earlier deliveries could have made has run to its end by then. A
 * slow service makes this wait longer; it cannot make it pass early.
 */
import { BOT_USER_ID, type FakeMessage } from '../fakes/slack.ts';
import type { Harness } from './harness.ts';
import { waitFor } from './wait.ts';

/** Asks a later question (a DM when `dm`), waits for its answer and for the queue to drain; returns the question. */
export async function laterQuestionAnswered(h: Harness, opts: { dm?: boolean; channel?: string } = {}): Promise<FakeMessage> {
  const text = `<@${BOT_USER_ID}> a later question`;
  const q = opts.dm ? await h.dm({ text: 'a later question', ...(opts.channel ? { channel: opts.channel } : {}) }) : await h.mention({ text, ...(opts.channel ? { channel: opts.channel } : {}) });
  await h.reply(q);
  await queueDrained(h);
  return q;
}

/** Waits until the answers queue has no job waiting, running, prioritised or parked. */
export async function queueDrained(h: Harness): Promise<void> {
  const key = (k: string) => `${h.prefix}:answers:${k}`;
  await waitFor(async () => {
    const [wait, active, delayed, prioritized] = await Promise.all([
      h.redis.llen(key('wait')),
      h.redis.llen(key('active')),
      h.redis.zcard(key('delayed')),
      h.redis.zcard(key('prioritized')),
    ]);
    return wait + active + delayed + prioritized === 0;
  }, 'the answers queue to drain');
}
