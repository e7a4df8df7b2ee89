/**
 * The question-asking protocol, one implementation for both sides: the
 * small model drafts an answer, asks N yes/no questions, and writes its
 * final answer from the answers. The encoder gets each answer from the
 * large model; the decoder reads it from the message. Everything else is
 * the small model's greedy output, so both sides see the same questions.
 */
import type { ScoringChatModel } from "../chat/types.js";
import { CancelledError } from "../errors.js";
import { render, type QaPrompts } from "./prompts.js";

/** Reply limits, part of protocol version 1 (changing them changes every replay). */
export const DRAFT_TOKENS = 256;
export const QUESTION_TOKENS = 64;
export const FINAL_TOKENS = 256;
/** The small model's context in the protocol: its training context, at most this. */
export const QA_CONTEXT_TOKENS = 4096;
const MAX_QUESTION_CHARS = 500;

export interface Turn {
  question: string;
  answer: boolean;
  /** The small model's own P(yes) for this question, before it learns the answer. */
  pYes: number;
}

/** What the source of answers sees: everything the question was asked with. */
export interface QuestionContext {
  index: number;
  task: string;
  draft: string;
  transcript: string;
  question: string;
  pYes: number;
}

/** Where answers come from: the large model (encode) or the message (decode). */
export type AnswerSource = (q: QuestionContext) => Promise<boolean>;

export interface ProtocolOptions {
  task: string;
  small: ScoringChatModel;
  prompts: QaPrompts;
  questions: number;
  answers: AnswerSource;
  /** Also write a final answer after these many questions (for benchmarks); N is always included. */
  finalsAt?: number[];
  signal?: AbortSignal;
  onStep?: (what: "draft" | "question" | "final", index: number) => void;
}

export interface ProtocolRun {
  draft: string;
  turns: Turn[];
  /** The final answer after all N questions. */
  final: string;
  /** Final answers by number of questions answered (includes N). */
  finals: Map<number, string>;
}

/** The questions and answers so far, as the prompts show them. */
export function transcript(turns: readonly Turn[]): string {
  if (turns.length === 0) return "(none)";
  return turns.map((t, i) => `Q${i + 1}: ${t.question}\nA${i + 1}: ${t.answer ? "yes" : "no"}`).join("\n");
}

/** The question in a reply: its first non-empty line, capped. */
export function questionOf(reply: string): string {
  const line = reply.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? reply.trim();
  return line.slice(0, MAX_QUESTION_CHARS);
}

export async function runProtocol(opts: ProtocolOptions): Promise<ProtocolRun> {
  const { task, small, prompts } = opts;
  const check = () => {
    if (opts.signal?.aborted) throw new CancelledError("interrupted");
  };
  const finalAfter = async (turns: Turn[], draft: string): Promise<string> => {
    check();
    opts.onStep?.("final", turns.length);
    const reply = await small.complete(render(prompts.final, { task, draft, transcript: transcript(turns) }), { maxTokens: FINAL_TOKENS, signal: opts.signal });
    return reply.text;
  };

  check();
  opts.onStep?.("draft", 0);
  const draft = (await small.complete(render(prompts.draft, { task }), { maxTokens: DRAFT_TOKENS, signal: opts.signal })).text;
  const wanted = new Set([...(opts.finalsAt ?? []).filter((k) => k >= 0 && k < opts.questions), opts.questions]);
  const finals = new Map<number, string>();
  const turns: Turn[] = [];
  for (let i = 0; ; i++) {
    if (wanted.has(i)) finals.set(i, await finalAfter(turns, draft));
    if (i === opts.questions) break;
    check();
    opts.onStep?.("question", i);
    const asked = transcript(turns);
    const question = questionOf((await small.complete(render(prompts.ask, { task, draft, transcript: asked }), { maxTokens: QUESTION_TOKENS, signal: opts.signal })).text);
    const pYes = await small.choiceProbability(render(prompts.answer, { task, draft, transcript: asked, question }), ["yes", "no"], opts.signal);
    const answer = await opts.answers({ index: i, task, draft, transcript: asked, question, pYes });
    turns.push({ question, answer, pYes });
  }
  return { draft, turns, final: finals.get(opts.questions) as string, finals };
}
