/**
 * Socket Mode acknowledges an event before Bolt runs its listeners, so an
 * event whose request could not be queued (Redis down) would be lost: Slack
 * never redelivers an acknowledged envelope. This receiver defers the
 * acknowledgement until the listener has finished; if it throws, the envelope
 * stays unacknowledged and Slack delivers it again (with retry_attempt).
 * (HTTP mode gets the same guarantee from Bolt's processBeforeResponse.)
 *
 * Slash commands and buttons are the opposite: Slack never redelivers them,
 * and a person waits on them. Their listeners acknowledge first and answer
 * later through response_url, so their acknowledgement goes out the moment
 * the listener makes it, in both modes, while the listener carries on.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { recordAck } from '../stats.ts';

/** Events API deliveries; everything else (commands, interactivity) is acknowledged at once. */
const isEventDelivery = (body: unknown) => (body as { type?: string } | undefined)?.type === 'event_callback';

export class AckAfterHandling implements Receiver {
  constructor(private readonly inner: Receiver) {}

  init(app: App): void {
    const deferring = {
      processEvent: async (event: ReceiverEvent) => {
        if (!isEventDelivery(event.body)) return acknowledgeAtOnce(app, event);
        const started = process.hrtime.bigint();
        let acked = false;
        let response: unknown;
        await app.processEvent({
          ...event,
          ack: async (r?: unknown) => {
            acked = true;
            response = r;
          },
        });
        if (acked) {
          await event.ack(response);
          recordAck(started);
        }
      },
    };
    this.inner.init(deferring as unknown as App);
  }

  start(...args: unknown[]): Promise<unknown> {
    return this.inner.start(...args);
  }

  stop(...args: unknown[]): Promise<unknown> {
    return this.inner.stop(...args);
  }
}

/**
 * Passes the listener's ack straight to Slack and returns as soon as it is
 * made (HTTP mode sends its response when this returns), leaving the listener
 * to finish on its own. A listener that fails before acknowledging fails the
 * delivery as before; one that fails after has already been reported by the
 * app's error handler.
 */
async function acknowledgeAtOnce(app: App, event: ReceiverEvent): Promise<void> {
  const started = process.hrtime.bigint();
  let markAcked!: () => void;
  const acked = new Promise<'acked'>((resolve) => {
    markAcked = () => resolve('acked');
  });
  const handled = app.processEvent({
    ...event,
    ack: async (r?: unknown) => {
      await event.ack(r as never);
      recordAck(started);
      markAcked();
    },
  });
  const first = await Promise.race([acked, handled.then(() => 'handled' as const)]);
  if (first === 'acked') handled.catch(() => undefined);
}
