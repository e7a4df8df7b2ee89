/**
 * llmzip qa: the question-asking protocol. `encode` runs it with a large
 * model answering and writes the message, `decode` replays it, `bench`
 * evaluates it over a task set, `info` describes a message.
 */
import fs from "node:fs";
import { Option, type Command } from "commander";
import { looksLikeUrl, openChatModel } from "../chat/open.js";
import type { LocalChatModel } from "../chat/local.js";
import type { ChatModel } from "../chat/types.js";
import { chooseBackend, type GpuMode } from "../engine/engine.js";
import type { Backend } from "../engine/locate.js";
import { FileError, UsageError } from "../errors.js";
import { hex } from "../util/bytes.js";
import { benchQa, type QaBenchReport } from "../qa/bench.js";
import { MAX_QUESTIONS, openSmallModel, qaDecode, qaEncode } from "../qa/codec.js";
import { parseMessage } from "../qa/message.js";
import { DEFAULT_QA_PROMPTS, promptsFromJson, type QaPrompts } from "../qa/prompts.js";
import { parseTasks } from "../qa/tasks.js";
import { readInput, writeAtomic } from "../util/fs.js";
import { writeStdout } from "./stdio.js";
import { makeReporter, type Reporter } from "./output.js";
import { gpuOption, parsePositiveInt, threadsOption } from "./options.js";

interface CommonFlags {
  small: string;
  prompts?: string;
  threads?: number;
  quiet?: boolean;
  verbose?: boolean;
}

interface LargeFlags {
  large: string;
  largeModel?: string;
  timeout?: number;
  gpu: GpuMode;
}

function parseQuestionCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_QUESTIONS) throw new UsageError(`--questions must be a whole number from 0 to ${MAX_QUESTIONS} (got '${value}')`);
  return n;
}

function parseQuestionList(value: string): number[] {
  return value.split(",").map((v) => parseQuestionCount(v.trim()));
}

function readPrompts(file: string | undefined): QaPrompts {
  return file ? promptsFromJson(readInput(file).toString("utf8"), file) : DEFAULT_QA_PROMPTS;
}

function openSmall(flags: CommonFlags, backend: Backend): Promise<LocalChatModel> {
  if (looksLikeUrl(flags.small)) throw new UsageError("--small must be a local GGUF file: the decoder replays it exactly, which an endpoint cannot promise");
  return openSmallModel(flags.small, { threads: flags.threads, backend, verbose: flags.verbose });
}

function openLarge(flags: LargeFlags & CommonFlags, backend: Backend): Promise<ChatModel> {
  if (looksLikeUrl(flags.large)) {
    if (!flags.largeModel) throw new UsageError("--large URL needs --large-model NAME (the model the endpoint should use)");
    return openChatModel({ url: flags.large, model: flags.largeModel, timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000 });
  }
  if (flags.largeModel || flags.timeout !== undefined) throw new UsageError("--large-model and --timeout go with an endpoint URL as --large");
  return openChatModel({ path: flags.large, threads: flags.threads, backend, verbose: flags.verbose });
}

/** Opens the small and the large model, runs `work`, and closes both whatever happens. */
async function withModels<T>(flags: CommonFlags & LargeFlags, work: (small: LocalChatModel, large: ChatModel) => Promise<T>): Promise<T> {
  const backend = chooseBackend(flags.gpu);
  const small = await openSmall(flags, backend);
  try {
    const large = await openLarge(flags, backend);
    try {
      return await work(small, large);
    } finally {
      await large.close();
    }
  } finally {
    await small.close();
  }
}

function addCommon(cmd: Command): Command {
  return cmd
    .requiredOption("--small <path>", "the small model, a local GGUF (the decoder needs the same file)")
    .option("--prompts <file>", "JSON file replacing any of the built-in prompts: draft, ask, final, answer (the decoder needs the same)")
    .addOption(threadsOption())
    .option("-q, --quiet", "print nothing but the answer and errors")
    .option("-v, --verbose", "print the questions and answers, and stack traces on errors");
}

function addLarge(cmd: Command): Command {
  return cmd
    .requiredOption("--large <path|url>", "the large model: a local GGUF, or an OpenAI-compatible endpoint URL (API key from $LLMZIP_API_KEY)")
    .option("--large-model <name>", "with an endpoint: the model name to ask for")
    .option("--timeout <seconds>", "with an endpoint: per-request timeout (default 120)", parsePositiveInt("--timeout", 86_400))
    .addOption(gpuOption());
}

function showTurns(rep: Reporter, turns: { question: string; answer: boolean; pYes: number }[]): void {
  turns.forEach((t, i) => rep.debug(`Q${i + 1}: ${t.question}  ->  ${t.answer ? "yes" : "no"} (small model's P(yes) ${t.pYes.toFixed(3)})`));
}

function renderBench(r: QaBenchReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `tasks: ${r.tasks}; small ${r.small.model}; large ${r.large.model}`,
    `small alone      ${pct(r.small.accuracy)} (${r.small.correct}/${r.tasks})`,
    `large alone      ${pct(r.large.accuracy)} (${r.large.correct}/${r.tasks}; answers of ${r.large.meanAnswerBytes.toFixed(0)} bytes on average)`,
    "",
    "  k  accuracy  gap recovered  answer bits  P(yes)-coded bits (ideal)  message bytes  bits / large answer  message / large answer",
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.k).padStart(3)}  ${pct(row.accuracy).padStart(8)}  ${(row.gapRecovered === null ? "-" : pct(row.gapRecovered)).padStart(13)}  ${String(row.plainBits).padStart(11)}  ${`${row.arithmeticBits.toFixed(1)} (${row.idealBits.toFixed(2)})`.padStart(25)}  ${String(row.messageBytes).padStart(13)}  ${row.ratio.toFixed(5).padStart(19)}  ${row.messageRatio.toFixed(5).padStart(22)}`,
    );
  }
  if (r.unclearAnswers > 0) lines.push("", `${r.unclearAnswers} answer(s) of the large model were neither yes nor no and counted as no`);
  lines.push("", `${r.seconds.toFixed(1)} s`);
  return lines.join("\n");
}

export function register(program: Command): void {
  const qa = program.command("qa").description("question-asking compression: a small model asks yes/no questions, a large model answers, one bit each");

  addLarge(
    addCommon(
      qa
        .command("encode")
        .description("run the protocol and write the message; prints the small model's final answer")
        .requiredOption("--task <file>", "the task (UTF-8 text)")
        .requiredOption("-o, --output <msg>", "where to write the message")
        .addOption(new Option("--questions <n>", "yes/no questions to ask").argParser(parseQuestionCount).default(10))
        .option("--arithmetic", "code the answers with the small model's P(yes) instead of one bit each")
        .option("-f, --force", "overwrite an existing message"),
    ),
  )
    .addHelpText("after", "\nExample:\n  llmzip qa encode --task q.txt --small small.gguf --large http://127.0.0.1:8080/v1 --large-model big --questions 10 -o q.llmq")
    .action(async (flags: CommonFlags & LargeFlags & { task: string; output: string; questions: number; arithmetic?: boolean; force?: boolean }) => {
      const rep = makeReporter(flags);
      const task = readInput(flags.task);
      const prompts = readPrompts(flags.prompts);
      if (!flags.force && fs.existsSync(flags.output)) throw new FileError(`${flags.output}: already exists (use -f to overwrite)`);
      await withModels(flags, async (small, large) => {
        const r = await qaEncode({ task, small, large, questions: flags.questions, prompts, arithmetic: flags.arithmetic });
        writeAtomic(flags.output, r.message, { force: Boolean(flags.force) });
        showTurns(rep, r.run.turns);
        if (r.stats.unclear > 0) rep.warn(`${r.stats.unclear} of the large model's answers were neither yes nor no and were counted as no`);
        const coding = flags.arithmetic ? `arithmetic-coded answers ${r.message.length - r.stats.headerBytes} bytes (ideal ${r.stats.idealBits.toFixed(1)} bits)` : `answers ${r.message.length - r.stats.headerBytes} bytes`;
        if (process.stderr.isTTY || rep.verbose) rep.info(`${flags.output}: ${flags.questions} questions, ${r.message.length} bytes (header ${r.stats.headerBytes}, ${coding})`);
        await writeStdout(Buffer.from(`${r.final}\n`, "utf8"));
      });
    });

  addCommon(
    qa
      .command("decode")
      .description("replay the small model with the message's answers; prints the same final answer as encode")
      .argument("<msg>", "the message")
      .requiredOption("--task <file>", "the task the message answers"),
  )
    .addHelpText("after", "\nExample:\n  llmzip qa decode q.llmq --task q.txt --small small.gguf")
    .action(async (file: string, flags: CommonFlags & { task: string }) => {
      const rep = makeReporter(flags);
      const message = readInput(file);
      const { header } = parseMessage(message);
      const task = readInput(flags.task);
      const prompts = readPrompts(flags.prompts);
      const small = await openSmall(flags, header.backend);
      try {
        const r = await qaDecode(message, { task, small, prompts });
        showTurns(rep, r.run.turns);
        await writeStdout(Buffer.from(`${r.final}\n`, "utf8"));
      } finally {
        await small.close();
      }
    });

  addQaBenchCommand(qa, "bench");

  qa.command("info")
    .description("describe a QA message")
    .argument("<msg>", "the message")
    .option("--json", "print JSON")
    .action(async (file: string, flags: { json?: boolean }) => {
      const bytes = readInput(file);
      const { header, payload } = parseMessage(bytes);
      const doc = {
        file,
        protocolVersion: header.version,
        questions: header.questions,
        coding: header.arithmetic ? "arithmetic" : "plain",
        backend: header.backend,
        smallModelSha256: hex(header.smallModel),
        taskSha256: hex(header.task),
        promptsSha256: hex(header.prompts),
        finalAnswerCrc32: header.finalCrc32.toString(16).padStart(8, "0"),
        messageBytes: bytes.length,
        answerBytes: payload.length,
      };
      const text = Object.entries(doc).map(([k, v]) => `  ${k.padEnd(18)} ${v}`).join("\n");
      await writeStdout(Buffer.from(`${flags.json ? JSON.stringify(doc, null, 2) : `${file}\n${text}`}\n`));
    });
}

/**
 * The QA benchmark command under `parent` (`llmzip qa bench`, and
 * `llmzip bench qa` beside the compression benchmark).
 */
export function addQaBenchCommand(parent: Command, name: string): void {
  addLarge(
    addCommon(
      parent
        .command(name)
        .description("accuracy of the small model alone, with k answers, and of the large model alone, over a task set")
        .requiredOption("--tasks <file>", "JSON Lines task set: {id, task, answer, check?} per line (see fixtures/qa/tasks.jsonl)")
        .addOption(new Option("--questions <list>", "numbers of questions to evaluate").argParser(parseQuestionList).default([1, 2, 5, 10], "1,2,5,10"))
        .option("--json", "print the report as JSON"),
    ),
  )
    .addHelpText("after", `\nExample:\n  llmzip ${parent.name()} ${name} --tasks fixtures/qa/tasks.jsonl --small small.gguf --large big.gguf --questions 1,2,5,10`)
    .action(async (flags: CommonFlags & LargeFlags & { tasks: string; questions: number[]; json?: boolean }) => {
      const rep = makeReporter(flags);
      const tasks = parseTasks(readInput(flags.tasks).toString("utf8"), flags.tasks);
      const prompts = readPrompts(flags.prompts);
      await withModels(flags, async (small, large) => {
        const report = await benchQa(tasks, {
          small,
          large,
          ks: flags.questions,
          prompts,
          onTask: (done, total, id) => {
            if (done < total) rep.debug(`task ${done + 1}/${total}: ${id}`);
          },
        });
        await writeStdout(Buffer.from(`${flags.json ? JSON.stringify(report, null, 2) : renderBench(report)}\n`, "utf8"));
      });
    });
}
