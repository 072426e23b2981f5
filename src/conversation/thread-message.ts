/** One message of a Slack thread as the model's context is built from it. */
export interface ThreadMessage {
  ts: string;
  user?: string;
  botId?: string;
  text: string;
  /** Our own marker on bot messages: pending, answer or notice. */
  metadataType?: string;
}
