/**
 * `qa encode` and `qa decode` as library functions: run the protocol with
 * the large model's answers and write the message; replay it from the
 * message and arrive at exactly the same final answer.
 */
import type { ChatModel, ScoringChatModel } from "../chat/types.js";
import type { Backend } from "../engine/locate.js";
import { MismatchError, UsageError } from "../errors.js";
import { crc32, hex, sha256 } from "../util/bytes.js";
import { BitDecoder, encodeBits, idealBits } from "./bit-coder.js";
import { askExpert } from "./expert.js";
import { FINGERPRINT_BYTES, headerLength, packBits, parseMessage, QA_PROTOCOL_VERSION, serializeMessage, unpackBits, type QaHeader } from "./message.js";
import { DEFAULT_QA_PROMPTS, promptsSha256, type QaPrompts } from "./prompts.js";
import { QA_CONTEXT_TOKENS, runProtocol, type AnswerSource, type ProtocolRun } from "./protocol.js";
import { LocalChatModel } from "../chat/local.js";

/** Most questions one message may carry. */
export const MAX_QUESTIONS = 10_000;

/** A small model whose replies can be replayed: local, identified by its file's sha256. */
export interface ReplayableModel extends ScoringChatModel {
  readonly sha256: Buffer;
  readonly backend: Backend;
}

export interface QaCommonOptions {
  /** The task file's bytes (UTF-8 text). */
  task: Uint8Array;
  small: ReplayableModel;
  prompts?: QaPrompts;
  signal?: AbortSignal;
  onStep?: (what: "draft" | "question" | "final", index: number) => void;
}

export interface QaEncodeOptions extends QaCommonOptions {
  large: ChatModel;
  questions: number;
  /** Code the answers with the small model's P(yes) instead of one bit each. */
  arithmetic?: boolean;
  /** Also write final answers after these many questions (benchmarks). */
  finalsAt?: number[];
}

export interface QaStats {
  questions: number;
  headerBytes: number;
  messageBytes: number;
  /** Bits the answers take in the message (payload bytes x 8). */
  answerBits: number;
  /** -log2 of the small model's (quantized) probability of the answers: what arithmetic coding approaches. */
  idealBits: number;
  /** Answers the large model gave in words that were neither yes nor no (counted as no). */
  unclear: number;
}

export interface QaEncodeResult {
  message: Uint8Array;
  final: string;
  run: ProtocolRun;
  stats: QaStats;
}

const fingerprint = (data: Uint8Array | string) => sha256(data).subarray(0, FINGERPRINT_BYTES);

/** The task as text; the protocol feeds it to chat templates. */
export function taskText(task: Uint8Array): string {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(task);
    if (!text.trim()) throw new UsageError("the task file is empty");
    return text;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError("the task file must be UTF-8 text");
  }
}

/** Opens a small model the way protocol version 1 runs it (its context size is part of the protocol). */
export function openSmallModel(modelPath: string, opts: { threads?: number; backend?: Backend; verbose?: boolean }): Promise<LocalChatModel> {
  return LocalChatModel.open(modelPath, { ...opts, contextTokens: QA_CONTEXT_TOKENS });
}

function checkSmall(small: ReplayableModel): void {
  if (small.budget.contextTokens !== QA_CONTEXT_TOKENS) {
    throw new UsageError(`the small model must run with the protocol's ${QA_CONTEXT_TOKENS}-token context (open it with openSmallModel)`);
  }
}

function checkQuestions(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_QUESTIONS) throw new UsageError(`--questions must be a whole number from 0 to ${MAX_QUESTIONS} (got ${n})`);
}

/** Runs the protocol with the large model answering and writes the message. */
export async function qaEncode(opts: QaEncodeOptions): Promise<QaEncodeResult> {
  checkQuestions(opts.questions);
  checkSmall(opts.small);
  const task = taskText(opts.task);
  const prompts = opts.prompts ?? DEFAULT_QA_PROMPTS;
  let unclear = 0;
  const answers: AnswerSource = async (q) => {
    const a = await askExpert(opts.large, prompts, q, opts.signal);
    if (!a.clear) unclear++;
    return a.answer;
  };
  const run = await runProtocol({ task, small: opts.small, prompts, questions: opts.questions, answers, finalsAt: opts.finalsAt, signal: opts.signal, onStep: opts.onStep });
  const bits = run.turns.map((t) => t.answer);
  const pYes = run.turns.map((t) => t.pYes);
  const arithmetic = Boolean(opts.arithmetic);
  const header: QaHeader = {
    version: QA_PROTOCOL_VERSION,
    arithmetic,
    backend: opts.small.backend,
    questions: opts.questions,
    smallModel: opts.small.sha256.subarray(0, FINGERPRINT_BYTES),
    task: fingerprint(opts.task),
    prompts: promptsSha256(prompts).subarray(0, FINGERPRINT_BYTES),
    finalCrc32: crc32(Buffer.from(run.final, "utf8")),
  };
  const payload = arithmetic ? encodeBits(bits, pYes) : packBits(bits);
  const message = serializeMessage({ header, payload });
  return {
    message,
    final: run.final,
    run,
    stats: { questions: opts.questions, headerBytes: headerLength(opts.questions), messageBytes: message.length, answerBits: payload.length * 8, idealBits: idealBits(bits, pYes), unclear },
  };
}

/** Checks that the decoder has what the message was made with, before any model work. */
function checkSides(h: QaHeader, opts: QaCommonOptions, prompts: QaPrompts): void {
  const small = opts.small.sha256.subarray(0, FINGERPRINT_BYTES);
  if (hex(small) !== hex(h.smallModel)) {
    throw new MismatchError(`wrong small model: the message was made with a model whose sha256 starts ${hex(h.smallModel)}; ${opts.small.identity} is another`);
  }
  if (hex(fingerprint(opts.task)) !== hex(h.task)) throw new MismatchError(`wrong task: the message answers another task file (sha256 ${hex(h.task)}…, this one is ${hex(fingerprint(opts.task))}…)`);
  if (hex(promptsSha256(prompts).subarray(0, FINGERPRINT_BYTES)) !== hex(h.prompts)) {
    throw new MismatchError("the message was made with other prompts; pass the same --prompts file as the encoder (or none, for the built-in ones)");
  }
  if (h.backend !== opts.small.backend) throw new MismatchError(`the message was made with the small model on ${h.backend}; replaying it on ${opts.small.backend} would give other questions`);
}

/** Replays the small model with the message's answers; returns exactly the encoder's final answer. */
export async function qaDecode(message: Uint8Array, opts: QaCommonOptions): Promise<{ final: string; run: ProtocolRun; header: QaHeader }> {
  const { header, payload } = parseMessage(message);
  const prompts = opts.prompts ?? DEFAULT_QA_PROMPTS;
  checkSides(header, opts, prompts);
  checkSmall(opts.small);
  const task = taskText(opts.task);
  let answers: AnswerSource;
  if (header.arithmetic) {
    const decoder = new BitDecoder(payload);
    answers = async (q) => decoder.next(q.pYes);
  } else {
    const bits = unpackBits(payload, header.questions);
    answers = async (q) => bits[q.index] as boolean;
  }
  const run = await runProtocol({ task, small: opts.small, prompts, questions: header.questions, answers, signal: opts.signal, onStep: opts.onStep });
  if (crc32(Buffer.from(run.final, "utf8")) !== header.finalCrc32) {
    throw new MismatchError("the replay arrived at another final answer than the encoder's: the small model's output differs here (other llama.cpp build, backend or CPU?) or the message is damaged");
  }
  return { final: run.final, run, header };
}
