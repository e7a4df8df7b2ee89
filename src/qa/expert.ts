/**
 * The large model's side of the protocol: one yes/no answer per question.
 * A local model answers by comparing its probabilities of "yes" and "no" as
 * the reply's first word; an endpoint answers in text, which is read as yes
 * or no (anything else counts as no, and is reported as unclear).
 */
import { isScoring, type ChatModel } from "../chat/types.js";
import { render, type QaPrompts } from "./prompts.js";
import type { QuestionContext } from "./protocol.js";

/** Enough for "Yes." and a little more; the answer is read from the first word. */
const ANSWER_TOKENS = 8;

export interface ExpertAnswer {
  answer: boolean;
  /** False when an endpoint's reply was neither yes nor no. */
  clear: boolean;
}

/** Yes or no from a free-text reply: the first word decides; else a lone "yes" or "no" anywhere. */
export function readYesNo(reply: string): ExpertAnswer {
  const first = /^[\s"'*_(\[]*(yes|no|true|false|correct|incorrect)\b/i.exec(reply)?.[1]?.toLowerCase();
  if (first) return { answer: first === "yes" || first === "true" || first === "correct", clear: true };
  const yes = /\byes\b/i.test(reply);
  const no = /\bno\b/i.test(reply);
  if (yes !== no) return { answer: yes, clear: true };
  return { answer: false, clear: false };
}

export async function askExpert(large: ChatModel, prompts: QaPrompts, q: QuestionContext, signal?: AbortSignal): Promise<ExpertAnswer> {
  const messages = render(prompts.answer, { task: q.task, draft: q.draft, transcript: q.transcript, question: q.question });
  if (isScoring(large)) return { answer: (await large.choiceProbability(messages, ["yes", "no"], signal)) >= 0.5, clear: true };
  return readYesNo((await large.complete(messages, { maxTokens: ANSWER_TOKENS, signal })).text);
}
