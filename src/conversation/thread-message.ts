/** One message of a Slack thread as the model's context is built from it. */
import type { SlackFile } from './file-context.ts';

export interface ThreadMessage {
  ts: string;
  user?: string;
  botId?: string;
  text: string;
  /** Our own marker on bot messages: pending, answer or notice. */
  metadataType?: string;
  /** Files shared with the message (read as context when they fit). */
  files?: SlackFile[];
}
