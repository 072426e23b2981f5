import type { ListenerDeps } from '../types.ts';
import { stopAnswer } from '../actions/stop-answer.ts';

/** What Slack sends when a person presses its own stop (slack.md §4.4); only the fields read here. */
interface AgentSessionStopped {
  type: 'agent_session_stopped';
  user?: string;
  channel?: string;
  /** The messages being streamed when the person stopped. */
  streaming_message_ts?: string[];
}

/**
 * Slack's own stop: each message it names is looked up as an answer's (the
 * worker remembers them as it posts), and stopped as the Stop button would
 * (the same rule: the asker or an admin). Nothing is said in Slack: the
 * person pressed Slack's own control, and the answer itself shows it stopped.
 */
export function agentSessionStopped(deps: ListenerDeps) {
  return async ({ event }: { event: AgentSessionStopped }) => {
    const { user, channel } = event;
    if (!user || !channel) return;
    for (const messageTs of event.streaming_message_ts ?? []) {
      const jobId = await deps.cancellations.requestOfMessage(channel, messageTs);
      if (!jobId) continue;
      const { decision } = await stopAnswer(deps, jobId, { user, channel, messageTs });
      if (decision !== 'stopped') deps.logger.info({ requestId: jobId, user, decision }, "Slack's stop did not stop the answer");
    }
  };
}
