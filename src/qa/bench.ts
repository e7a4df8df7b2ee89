/**
 * The question-asking benchmark: over a task set, the accuracy of the
 * small model alone, of the small model after k answers (for each k asked
 * for), and of the large model alone; the share of the gap between them
 * that k answers recover; and what the answers cost, in bits, against the
 * large model's full answer.
 */
import type { ChatModel } from "../chat/types.js";
import { encodeBits, idealBits } from "./bit-coder.js";
import { qaEncode, type ReplayableModel } from "./codec.js";
import { headerLength } from "./message.js";
import { DEFAULT_QA_PROMPTS, render, type QaPrompts } from "./prompts.js";
import { DRAFT_TOKENS } from "./protocol.js";
import { isCorrect, type QaTask } from "./tasks.js";

export interface QaBenchOptions {
  small: ReplayableModel;
  large: ChatModel;
  /** Numbers of questions to evaluate (each run asks max(ks) questions once). */
  ks: number[];
  prompts?: QaPrompts;
  signal?: AbortSignal;
  onTask?: (done: number, total: number, id: string) => void;
}

export interface QaTaskResult {
  id: string;
  smallCorrect: boolean;
  largeCorrect: boolean;
  /** Correctness of the final answer after k questions, by k. */
  correctAfter: Record<number, boolean>;
  /** Bits of k answers coded arithmetically with the small model's P(yes) (whole bytes), by k. */
  arithmeticBits: Record<number, number>;
  /** -log2 of the small model's probability of the k answers, by k. */
  idealBits: Record<number, number>;
  answers: boolean[];
  largeAnswerBytes: number;
  unclear: number;
}

export interface QaBenchRow {
  k: number;
  correct: number;
  accuracy: number;
  /** (accuracy - small) / (large - small); null when the large model is no better than the small one. */
  gapRecovered: number | null;
  /** Answer bits per task: k when plain. */
  plainBits: number;
  /** Mean answer bits per task with arithmetic coding (the small model's P(yes)), whole bytes. */
  arithmeticBits: number;
  /** Mean -log2 P(answers) under the small model: what arithmetic coding approaches for long messages. */
  idealBits: number;
  /** Mean whole message per task, header included, plain answers. */
  messageBytes: number;
  /** Answer bits / bits of the large model's full answer (sums over tasks). */
  ratio: number;
  /** The same with the whole message (header included). */
  messageRatio: number;
}

export interface QaBenchReport {
  tasks: number;
  small: { model: string; correct: number; accuracy: number };
  large: { model: string; correct: number; accuracy: number; meanAnswerBytes: number };
  rows: QaBenchRow[];
  unclearAnswers: number;
  perTask: QaTaskResult[];
  seconds: number;
}

/** Runs the benchmark (tasks in order, one protocol run per task). */
export async function benchQa(tasks: QaTask[], opts: QaBenchOptions): Promise<QaBenchReport> {
  const ks = [...new Set(opts.ks)].sort((a, b) => a - b);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 0)) throw new RangeError("ks must be whole numbers >= 0");
  const maxK = ks[ks.length - 1] as number;
  const prompts = opts.prompts ?? DEFAULT_QA_PROMPTS;
  const t0 = performance.now();
  const perTask: QaTaskResult[] = [];
  for (const [i, t] of tasks.entries()) {
    opts.onTask?.(i, tasks.length, t.id);
    const enc = await qaEncode({ task: Buffer.from(t.task, "utf8"), small: opts.small, large: opts.large, questions: maxK, finalsAt: ks, prompts, signal: opts.signal });
    const large = await opts.large.complete(render(prompts.draft, { task: t.task }), { maxTokens: DRAFT_TOKENS, signal: opts.signal });
    const answers = enc.run.turns.map((x) => x.answer);
    const pYes = enc.run.turns.map((x) => x.pYes);
    const correctAfter: Record<number, boolean> = {};
    const arithmeticBits: Record<number, number> = {};
    const ideal: Record<number, number> = {};
    for (const k of ks) {
      correctAfter[k] = isCorrect(enc.run.finals.get(k) ?? "", t);
      arithmeticBits[k] = encodeBits(answers.slice(0, k), pYes.slice(0, k)).length * 8;
      ideal[k] = idealBits(answers.slice(0, k), pYes.slice(0, k));
    }
    perTask.push({
      id: t.id,
      smallCorrect: isCorrect(enc.run.draft, t),
      largeCorrect: isCorrect(large.text, t),
      correctAfter,
      arithmeticBits,
      idealBits: ideal,
      answers,
      largeAnswerBytes: Buffer.byteLength(large.text),
      unclear: enc.stats.unclear,
    });
  }
  opts.onTask?.(tasks.length, tasks.length, "");
  return summarise(perTask, ks, opts.small.identity, opts.large.identity, (performance.now() - t0) / 1000);
}

/** The report's totals from per-task results (pure, for tests). */
export function summarise(perTask: QaTaskResult[], ks: number[], small: string, large: string, seconds: number): QaBenchReport {
  const n = perTask.length;
  const share = (c: number) => (n > 0 ? c / n : 0);
  const smallCorrect = perTask.filter((r) => r.smallCorrect).length;
  const largeCorrect = perTask.filter((r) => r.largeCorrect).length;
  const largeBits = perTask.reduce((s, r) => s + r.largeAnswerBytes * 8, 0);
  const mean = (f: (r: QaTaskResult) => number) => (n > 0 ? perTask.reduce((s, r) => s + f(r), 0) / n : 0);
  const rows = ks.map((k): QaBenchRow => {
    const correct = perTask.filter((r) => r.correctAfter[k]).length;
    const gap = share(largeCorrect) - share(smallCorrect);
    const messageBytes = headerLength(k) + Math.ceil(k / 8);
    return {
      k,
      correct,
      accuracy: share(correct),
      gapRecovered: gap > 0 ? (share(correct) - share(smallCorrect)) / gap : null,
      plainBits: k,
      arithmeticBits: mean((r) => r.arithmeticBits[k] ?? 0),
      idealBits: mean((r) => r.idealBits[k] ?? 0),
      messageBytes,
      ratio: largeBits > 0 ? (k * n) / largeBits : 0,
      messageRatio: largeBits > 0 ? (messageBytes * 8 * n) / largeBits : 0,
    };
  });
  return {
    tasks: n,
    small: { model: small, correct: smallCorrect, accuracy: share(smallCorrect) },
    large: { model: large, correct: largeCorrect, accuracy: share(largeCorrect), meanAnswerBytes: n > 0 ? largeBits / 8 / n : 0 },
    rows,
    unclearAnswers: perTask.reduce((s, r) => s + r.unclear, 0),
    perTask,
    seconds,
  };
}
