/**
 * Socket Mode acknowledges an event before Bolt runs its listeners, so an
 * event whose request could not be queued (Redis down) would be lost: Slack
 * never redelivers an acknowledged envelope. This receiver defers the
 * acknowledgement until the listener has finished; if it throws, the envelope
 * stays unacknowledged and Slack delivers it again (with retry_attempt).
 * (HTTP mode gets the same guarantee from Bolt's processBeforeResponse.)
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { recordAck } from '../stats.ts';

export class AckAfterHandling implements Receiver {
  constructor(private readonly inner: Receiver) {}

  init(app: App): void {
    const deferring = {
      processEvent: async (event: ReceiverEvent) => {
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
