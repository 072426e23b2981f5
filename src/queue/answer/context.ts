/**
 * The model's messages for this question, fitted to the model's context
 * window in tokens: the question always (one too long for the model is
 * refused with the Live models that take it, never cut), then the newest
 * turns of the thread and the files shared in it, the oldest dropped first.
 * When the gateway still refuses the prompt as too long, the limit it names
 * is learned (fleet-wide) and the same conversation is fitted again, once,
 * before anything was shown.
 */
import { conversationOf, type Conversation, userIdsIn } from '../../conversation/build-messages.ts';
import { type SlackFile, labelFilePart } from '../../conversation/file-context.ts';
import { answerReserveTokens, type ContextFile, fitToWindow } from '../../conversation/token-budget.ts';
import type { ThreadMessage } from '../../conversation/thread-message.ts';
import type { FileRead, FileSkipped } from '../../errors.ts';
import type { ChatMessage } from '../../gateway/client.ts';
import { questionTooLongError } from '../../models/window-fit.ts';
import { compareTs, fetchThread } from '../../reply/thread-history.ts';
import { filesNote } from '../../file-words.ts';
import type { Proceed } from './admit.ts';
import type { AnswerDeps } from './deps.ts';
import type { AnswerRun } from './run.ts';

/** What is sent, and what the answer owes the asker about it. */
export interface AnswerContext {
  messages: ChatMessage[];
  /** Earlier turns left out to fit the window. */
  droppedTurns: number;
  /** The window the prompt was fitted to. */
  windowTokens: number;
  /** The counted size of the prompt (an upper bound). */
  promptTokens: number;
  /** Which shared files were read and which were not, and why (undefined when none is worth saying). */
  filesNote?: string;
  /** Kept so that a refusal can be answered by fitting again, without asking Slack twice. */
  readonly gathered: Gathered;
}

/** The whole conversation before fitting: every turn, every file read. */
interface Gathered {
  conversation: Conversation;
  files: (ContextFile & { id: string })[];
  /**
   * What the files note tells: the question's files and those shared since
   * the bot last answered in the thread (older ones were told then), read or
   * skipped with the reason.
   */
  told: { read: FileRead[]; skipped: FileSkipped[] };
}

export async function buildContext(run: AnswerRun, deps: AnswerDeps, go: Proceed): Promise<AnswerContext> {
  const window = await deps.contextWindows.windowOf(go.model);
  const gathered = await gather(run, deps, go, window.tokens);
  return fit(run, deps, go, gathered, window.tokens);
}

/**
 * After the gateway refused the prompt as too long, before any text was
 * shown: the same conversation fitted to the limit the refusal named, when
 * that is smaller than the window it was fitted to. Otherwise undefined (the
 * refusal stands and is told).
 */
export async function refitAfterRefusal(run: AnswerRun, deps: AnswerDeps, go: Proceed, context: AnswerContext, err: unknown): Promise<AnswerContext | undefined> {
  if (run.hasText) return undefined;
  const learned = await deps.contextWindows.learnFrom(err, go.model);
  if (!learned || learned.tokens >= context.windowTokens) return undefined;
  run.log.info({ model: go.model, windowTokens: learned.tokens, was: context.windowTokens }, 'fitting the prompt again to the window the gateway named');
  return fit(run, deps, go, context.gathered, learned.tokens);
}

async function gather(run: AnswerRun, deps: AnswerDeps, go: Proceed, windowTokens: number): Promise<Gathered> {
  const { request: r } = run;
  // No token is shorter than a character: reading this many characters back reads all that can fit.
  const [history, instructions] = await Promise.all([
    r.inThread ? fetchThread(deps.slack, r.channel, r.threadTs, r.ts, windowTokens) : Promise.resolve<ThreadMessage[]>([]),
    deps.channelInstructions.forChannel(r.channel),
  ]);
  const names = await deps.userNames.lookup(userIdsIn({ history, prompt: go.prompt.prompt, triggerUser: r.user }));
  const conversation = conversationOf({
    history,
    prompt: go.prompt.prompt,
    triggerTs: r.ts,
    triggerUser: r.user,
    botUserId: go.identity.userId,
    botId: go.identity.botId,
    userNames: names,
    ...(instructions ? { instructions } : {}),
  });
  return { conversation, ...(await readFiles(run, deps, history, conversation)) };
}

/**
 * Reads the question's files first, then earlier messages' files newest
 * first (the file caps favour what is nearest the question), and places
 * each before the turn that shared it.
 */
async function readFiles(run: AnswerRun, deps: AnswerDeps, history: ThreadMessage[], conversation: Conversation): Promise<Omit<Gathered, 'conversation'>> {
  const asked = run.request.files ?? history.find((m) => m.ts === run.request.ts)?.files ?? [];
  const sharedAt = new Map<string, string>(asked.map((f) => [f.id, run.request.ts]));
  const earlier: SlackFile[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i] as ThreadMessage;
    for (const f of m.files ?? []) {
      if (sharedAt.has(f.id)) continue;
      sharedAt.set(f.id, m.ts);
      earlier.push(f);
    }
  }
  if (asked.length === 0 && earlier.length === 0) return { files: [], told: { read: [], skipped: [] } };
  const got = await deps.readFiles([...asked, ...earlier], run.log);
  const files = got.parts.map((part) => {
    const ts = sharedAt.get(part.id);
    const turnIndex = ts === run.request.ts ? -1 : conversation.turnTs.indexOf(ts ?? '');
    return { id: part.id, name: part.name, content: labelFilePart(part), ...(turnIndex >= 0 ? { turnIndex } : {}) };
  });
  // Files shared after the bot's last answer in the thread have not been told of yet.
  const lastAnswer = conversation.turns.findLastIndex((t) => t.role === 'assistant');
  const lastAnswerTs = lastAnswer >= 0 ? (conversation.turnTs[lastAnswer] as string) : undefined;
  const isNew = (id: string | undefined) => {
    const ts = id === undefined ? undefined : sharedAt.get(id);
    return ts === run.request.ts || lastAnswerTs === undefined || (ts !== undefined && compareTs(ts, lastAnswerTs) > 0);
  };
  return { files, told: { read: got.read.filter((x) => isNew(x.id)), skipped: got.skipped.filter((x) => isNew(x.id)) } };
}

async function fit(run: AnswerRun, deps: AnswerDeps, go: Proceed, gathered: Gathered, windowTokens: number): Promise<AnswerContext> {
  const { conversation: c } = gathered;
  const fitted = fitToWindow({
    system: c.system,
    turns: c.turns,
    question: c.question,
    files: gathered.files,
    windowTokens,
    reserveForAnswerTokens: answerReserveTokens(windowTokens),
  });
  if (fitted.questionTooLong) {
    const live = go.snapshot.models.filter((m) => m.status === 'Live').map((m) => m.name);
    const windows = await deps.contextWindows.windowsOf(live);
    throw questionTooLongError({
      model: go.model,
      windowTokens,
      questionTokens: fitted.questionTooLong.tokens,
      questionChars: c.question.content.length,
      promptTokens: fitted.questionTooLong.promptTokens,
      liveWindows: new Map([...windows].map(([model, w]) => [model, w.tokens])),
    });
  }
  // A file read but left out to fit the window is skipped for that reason.
  const noRoom = new Set(gathered.files.filter((f) => fitted.droppedFiles.includes(f.name)).map((f) => f.id));
  const note = filesNote(
    gathered.told.read.filter((x) => !noRoom.has(x.id as string)),
    [...gathered.told.skipped, ...gathered.told.read.filter((x) => noRoom.has(x.id as string)).map((x) => ({ id: x.id, name: x.name, reason: 'no_room' as const }))],
  );
  run.log.debug({ windowTokens, promptTokens: fitted.promptTokens, droppedTurns: fitted.droppedTurns, files: gathered.files.length }, 'context fitted');
  return {
    messages: fitted.messages,
    droppedTurns: fitted.droppedTurns,
    windowTokens,
    promptTokens: fitted.promptTokens,
    ...(note ? { filesNote: note } : {}),
    gathered,
  };
}
