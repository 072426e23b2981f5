import type { AnswerJobData } from '../../queue/answer-job.ts';

/** Puts a request on the queue; throws when it could not be stored. */
export type EnqueueAnswer = (request: AnswerJobData) => Promise<void>;
