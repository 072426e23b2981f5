/**
 * The sandbox's stand-in for Metis: the tests' fake gateway with a few canned
 * models, answers that say plainly they are simulated, streamed slowly enough
 * to watch, one reasoning model, and one Offline model that Metis starts a
 * while after someone waits for it.
 */
import { type FakeGateway, type FakeModel, startFakeGateway } from '../test/fakes/gateway.ts';

export const REASONING_MODEL = 'DeepSeek-R1';
export const OFFLINE_MODEL = 'Llama-4-Scout-17B-16E-Instruct';

export const SANDBOX_MODELS: readonly FakeModel[] = [
  { name: 'Meta-Llama-3.3-70B-Instruct', status: 'Live', description: 'general purpose, 70B' },
  { name: 'Meta-Llama-3.1-8B-Instruct', status: 'Live', description: 'small and quick, 8B' },
  { name: REASONING_MODEL, status: 'Live', description: 'reasoning (thinks before it answers)' },
  { name: OFFLINE_MODEL, status: 'Stopped', description: 'not loaded until someone asks' },
];

/** The first line of every simulated answer, so nobody mistakes it for a model's words. */
export const SIMULATED_MARK = 'Simulated answer';

type ChatMessage = { role: string; content: unknown };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join(' ');
}

/** A canned answer built from the question; it shows the markdown Slack renders and what the bot sent as context. */
export function simulatedAnswer({ model, messages }: { model: string; messages: ChatMessage[] }): string {
  const users = messages.filter((m) => m.role === 'user');
  const question = textOf(users[users.length - 1]?.content).trim();
  const earlier = messages.filter((m) => m.role === 'user' || m.role === 'assistant').length - 1;
  const answer = [
    `> _${SIMULATED_MARK} from the sandbox's stand-in for \`${model}\`: no model ran._`,
    '',
    `The bot sent your message as: **${question.slice(0, 300) || '(nothing)'}**`,
    '',
    earlier > 0
      ? `The bot sent the ${earlier} earlier message${earlier === 1 ? '' : 's'} of this thread along as context, as it does with Metis.`
      : 'Reply in this thread (mention @metis in a channel) and the bot sends the thread along as context.',
    '',
    'Things to try:',
    `- \`@metis -m r1 …\` asks the reasoning model; its thinking stays hidden`,
    `- \`@metis -m scout …\` asks a model that is Offline: the bot waits while Metis starts it`,
    '- `/metis-models` shows every model and its status',
    '',
    '```python',
    `print("code blocks look like this")  # ${model}`,
    '```',
  ].join('\n');
  // Reasoning models on Metis put their chain of thought inline in the content.
  if (model === REASONING_MODEL) return `<think>\nThe user asked "${question.slice(0, 80)}". I should answer briefly.\n</think>\n\n${answer}`;
  return answer;
}

export interface FakeMetis {
  gateway: FakeGateway;
  /** Metis starts the Offline model: Starting now, Live `startMs` later (once). */
  startOfflineModel(): void;
  close(): Promise<void>;
}

export async function startFakeMetis(opts: { validTokens: string[]; startMs: number; chunkDelayMs?: number }): Promise<FakeMetis> {
  const gateway = await startFakeGateway({
    models: SANDBOX_MODELS.map((m) => ({ ...m })),
    validTokens: opts.validTokens,
    reply: simulatedAnswer,
    // One SSE event per write, a pause between them: the answer streams at a pace a person can watch.
    randomSplits: false,
    chunkDelayMs: opts.chunkDelayMs ?? 25,
  });
  let starting: NodeJS.Timeout | undefined;
  return {
    gateway,
    startOfflineModel() {
      if (starting) return;
      gateway.setStatus(OFFLINE_MODEL, 'Starting');
      starting = setTimeout(() => gateway.setStatus(OFFLINE_MODEL, 'Live'), opts.startMs);
    },
    async close() {
      clearTimeout(starting);
      await gateway.close();
    },
  };
}
