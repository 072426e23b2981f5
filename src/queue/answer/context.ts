/** The model's messages for this question: the thread so far (when asked in one), with names for the people in it. */
import { type BuiltMessages, buildMessages, userIdsIn } from '../../conversation/build-messages.ts';
import { fetchThread } from '../../reply/thread-history.ts';
import type { Proceed } from './admit.ts';
import type { AnswerDeps } from './deps.ts';
import type { AnswerRun } from './run.ts';

export async function buildContext(run: AnswerRun, deps: AnswerDeps, go: Proceed): Promise<BuiltMessages> {
  const { request: r } = run;
  const { contextMaxChars, maxPromptChars } = deps.config.conversation;
  const history = r.inThread ? await fetchThread(deps.slack, r.channel, r.threadTs, r.ts, contextMaxChars) : [];
  const names = await deps.userNames.lookup(userIdsIn({ history, prompt: go.prompt.prompt, triggerUser: r.user }));
  return buildMessages({
    history,
    prompt: go.prompt.prompt,
    triggerTs: r.ts,
    triggerUser: r.user,
    botUserId: go.identity.userId,
    botId: go.identity.botId,
    userNames: names,
    maxContextChars: contextMaxChars,
    maxPromptChars,
    instructions: await deps.channelInstructions.forChannel(r.channel),
  });
}
