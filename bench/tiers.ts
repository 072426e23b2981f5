/**
 * Reads what the fake Slack saw during the tiers scenario (bench/run.ts
 * `--only=tiers`): Slack calls per answer by method, the share of answers
 * streamed natively, and per answer when its text first became visible and
 * when the whole answer did, to compare with when the model started and
 * finished.
 */
import type { ChatRequestRecord } from '../test/fakes/gateway.ts';
import type { ApiCall, FakeMessage, FakeSlack } from '../test/fakes/slack.ts';

export interface AnswerTimes {
  /** The model's first token, and its last (gateway clock = this process's). */
  modelStartedAt: number;
  modelFinishedAt: number;
  /** The first call that put answer text before people, and the call that made the answer whole. */
  firstTextAt: number | undefined;
  wholeAt: number | undefined;
  native: boolean;
}

const markdownOf = (c: ApiCall): string => {
  if (typeof c.params.markdown_text === 'string') return c.params.markdown_text;
  const blocks = c.params.blocks as { type: string; text?: string }[] | undefined;
  return blocks?.find((b) => b.type === 'markdown')?.text ?? '';
};
const isFinal = (c: ApiCall) => JSON.stringify(c.params.metadata ?? '').includes('metis_answer');

/**
 * Per question: the calls about its answer (posted in its thread, or naming one of its messages), when
 * text containing `marker` first went out and when the final one did.
 */
export function answerTimes(slack: FakeSlack, questions: FakeMessage[], requests: ChatRequestRecord[], marker: string): AnswerTimes[] {
  const byQuestion = new Map<string, ApiCall[]>();
  const tsToQuestion = new Map<string, string>();
  for (const q of questions) {
    byQuestion.set(q.ts, []);
    for (const m of slack.botReplies(q.channel, q.ts)) tsToQuestion.set(m.ts, q.ts);
  }
  for (const c of slack.calls) {
    const q = typeof c.params.thread_ts === 'string' && byQuestion.has(c.params.thread_ts) ? c.params.thread_ts : tsToQuestion.get(String(c.params.ts));
    if (q) byQuestion.get(q)?.push(c);
  }
  const requestFor = (q: FakeMessage) => requests.find((r) => JSON.stringify(r.body.messages?.at(-1) ?? '').includes(q.text.split('> ')[1] as string));
  return questions.map((q) => {
    const calls = byQuestion.get(q.ts) ?? [];
    const req = requestFor(q);
    const withText = calls.filter((c) => ['chat.startStream', 'chat.appendStream', 'chat.update', 'chat.postMessage', 'chat.stopStream'].includes(c.method) && markdownOf(c).includes(marker));
    const finals = calls.filter((c) => ['chat.update', 'chat.postMessage', 'chat.stopStream'].includes(c.method) && isFinal(c));
    return {
      modelStartedAt: req?.at ?? Number.NaN,
      modelFinishedAt: req?.finishedAt ?? Number.NaN,
      firstTextAt: withText[0]?.at,
      wholeAt: finals.at(-1)?.at,
      native: calls.some((c) => c.method === 'chat.startStream'),
    };
  });
}

/** Slack calls per answer, by method (only methods that took part). */
export function callsPerAnswer(slack: FakeSlack, from: number, answers: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of slack.calls) if (c.at >= from) counts[c.method] = (counts[c.method] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([m, k]) => [m, Math.round((k / answers) * 100) / 100]));
}
