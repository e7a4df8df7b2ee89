import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointChatModel } from "../src/chat/endpoint.js";
import { LocalChatModel } from "../src/chat/local.js";
import { MismatchError } from "../src/errors.js";
import { encodeBits } from "../src/qa/bit-coder.js";
import { openSmallModel, qaDecode, qaEncode } from "../src/qa/codec.js";
import { headerLength, parseMessage } from "../src/qa/message.js";
import { DEFAULT_QA_PROMPTS, promptsFromJson } from "../src/qa/prompts.js";
import { parseTasks } from "../src/qa/tasks.js";
import { startChatServer, type ChatServer } from "./helpers/chat-server.js";
import { llmzipAsync, tempDir } from "./helpers/cli.js";
import { modelPath, repoRoot } from "./helpers/shared.js";

const SMALL = modelPath("stories260K.gguf");
const OTHER = modelPath("stories260K-Q8_0.gguf");
const TASKS_FILE = path.join(repoRoot, "fixtures", "qa", "tasks.jsonl");
const TASKS = parseTasks(fs.readFileSync(TASKS_FILE, "utf8"), TASKS_FILE);
const TASK = Buffer.from("Lily has 3 red balls and 4 blue balls. How many balls does Lily have?\n");

/**
 * The loopback "large model": answers a yes/no question by the parity of its
 * length (deterministic and mixed), and a task with its reference answer
 * (an oracle, so that the large model's accuracy is known: 100%).
 */
function largeAnswer(user: string): string {
  const task = TASKS.find((t) => t.task === user);
  if (task) return `The answer is ${task.answer}.`;
  const question = /The student asks: (.*)\n/.exec(user)?.[1] ?? "";
  return question.length % 2 === 0 ? "Yes." : "No, it is not.";
}

describe("question-asking protocol", () => {
  let server: ChatServer;
  let small: LocalChatModel;
  beforeAll(async () => {
    server = await startChatServer((req) => largeAnswer(req.body.messages?.filter((m) => m.role === "user").at(-1)?.content ?? ""));
    small = await openSmallModel(SMALL, { threads: 1 });
  });
  afterAll(async () => {
    await small.close();
    await server.close();
  });
  const large = () => new EndpointChatModel({ url: server.url, model: "large", timeoutMs: 5000, env: {} });

  it("decode replays the encoder's final answer byte for byte; the message is header + ceil(N/8)", async () => {
    const before = server.requests.length;
    const enc = await qaEncode({ task: TASK, small, large: large(), questions: 4 });
    expect(enc.message.length).toBe(headerLength(4) + 1);
    expect(enc.stats).toMatchObject({ questions: 4, headerBytes: headerLength(4), answerBits: 8, unclear: 0 });
    // The large model was asked each question once, with the question in the answer prompt.
    const asked = server.requests.slice(before);
    expect(asked).toHaveLength(4);
    enc.run.turns.forEach((t, i) => {
      expect(asked[i]?.body.messages?.at(-1)?.content).toContain(`The student asks: ${t.question}\n`);
      expect(t.answer).toBe(t.question.length % 2 === 0);
    });
    const dec = await qaDecode(enc.message, { task: TASK, small });
    expect(Buffer.from(dec.final, "utf8").equals(Buffer.from(enc.final, "utf8"))).toBe(true);
    expect(dec.run.turns).toEqual(enc.run.turns);
    expect(dec.run.draft).toBe(enc.run.draft);
    // Decoding needs no large model.
    expect(server.requests.length).toBe(before + 4);
  });

  it("codes the answers with the small model's P(yes) when asked, and decodes them", async () => {
    const enc = await qaEncode({ task: TASK, small, large: large(), questions: 6, arithmetic: true });
    const { header, payload } = parseMessage(enc.message);
    expect(header.arithmetic).toBe(true);
    const bits = enc.run.turns.map((t) => t.answer);
    expect(Array.from(payload)).toEqual(Array.from(encodeBits(bits, enc.run.turns.map((t) => t.pYes))));
    expect(enc.stats.answerBits).toBe(payload.length * 8);
    const dec = await qaDecode(enc.message, { task: TASK, small });
    expect(dec.final).toBe(enc.final);
    expect(dec.run.turns.map((t) => t.answer)).toEqual(bits);
  });

  it("works with a local GGUF as the large model", async () => {
    const local = await LocalChatModel.open(OTHER, { threads: 1 });
    try {
      const enc = await qaEncode({ task: TASK, small, large: local, questions: 2 });
      const again = await qaEncode({ task: TASK, small, large: local, questions: 2 });
      expect(Buffer.from(again.message).equals(Buffer.from(enc.message))).toBe(true);
      expect((await qaDecode(enc.message, { task: TASK, small })).final).toBe(enc.final);
    } finally {
      await local.close();
    }
  });

  it("N = 0 is the small model alone, in a header-only message", async () => {
    const enc = await qaEncode({ task: TASK, small, large: large(), questions: 0 });
    expect(enc.message.length).toBe(headerLength(0));
    expect((await qaDecode(enc.message, { task: TASK, small })).final).toBe(enc.final);
  });

  it("refuses a wrong small model, task or prompts, and notices a replay that diverges", async () => {
    const enc = await qaEncode({ task: TASK, small, large: large(), questions: 2 });
    const other = await openSmallModel(OTHER, { threads: 1 });
    try {
      await expect(qaDecode(enc.message, { task: TASK, small: other })).rejects.toThrow(MismatchError);
      await expect(qaDecode(enc.message, { task: TASK, small: other })).rejects.toThrow(/wrong small model/);
    } finally {
      await other.close();
    }
    await expect(qaDecode(enc.message, { task: Buffer.from("Another task?\n"), small })).rejects.toThrow(/wrong task/);
    // The same file with another context size is not the protocol's small model.
    const otherContext = await LocalChatModel.open(SMALL, { threads: 1 });
    try {
      await expect(qaDecode(enc.message, { task: TASK, small: otherContext })).rejects.toThrow(/4096-token context/);
    } finally {
      await otherContext.close();
    }
    const prompts = promptsFromJson(JSON.stringify({ final: { system: "Be brief.", user: "{{task}}\n{{transcript}}" } }), "p.json");
    await expect(qaDecode(enc.message, { task: TASK, small, prompts })).rejects.toThrow(/other prompts/);
    expect((await qaDecode(enc.message, { task: TASK, small, prompts: DEFAULT_QA_PROMPTS })).final).toBe(enc.final);
    const tampered = Uint8Array.from(enc.message);
    const crcAt = headerLength(2) - 4;
    tampered[crcAt] = (tampered[crcAt] as number) ^ 0xff;
    await expect(qaDecode(tampered, { task: TASK, small })).rejects.toThrow(/replay arrived at another final answer/);
  });

  describe("command line", () => {
    const dir = tempDir("llmzip-qa-");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const taskFile = path.join(dir, "task.txt");
    fs.writeFileSync(taskFile, TASK);

    it("qa encode writes the message and prints the final answer; qa decode prints the same", async () => {
      const msg = path.join(dir, "t.llmq");
      const enc = await llmzipAsync(["qa", "encode", "--task", taskFile, "--small", SMALL, "--large", server.url, "--large-model", "large", "--questions", "3", "--threads", "1", "-o", msg]);
      expect(enc.stderr).toBe("");
      expect(enc.status).toBe(0);
      expect(fs.statSync(msg).size).toBe(headerLength(3) + 1);
      const dec = await llmzipAsync(["qa", "decode", msg, "--task", taskFile, "--small", SMALL, "--threads", "1"]);
      expect(dec.status).toBe(0);
      expect(dec.stdout.length).toBeGreaterThan(1);
      expect(dec.stdout).toBe(enc.stdout);
      const info = await llmzipAsync(["qa", "info", "--json", msg]);
      expect(JSON.parse(info.stdout)).toMatchObject({ questions: 3, coding: "plain", backend: "cpu", smallModelSha256: "659643879ac60198", messageBytes: headerLength(3) + 1 });

      const wrongTask = path.join(dir, "other.txt");
      fs.writeFileSync(wrongTask, "What is 2 + 2?\n");
      const bad = await llmzipAsync(["qa", "decode", msg, "--task", wrongTask, "--small", SMALL, "--threads", "1"]);
      expect(bad.status).toBe(1);
      expect(bad.stdout.length).toBe(0);
      expect(bad.stderr).toMatch(/^llmzip: wrong task: .*\n$/);
      const wrongModel = await llmzipAsync(["qa", "decode", msg, "--task", taskFile, "--small", OTHER, "--threads", "1"]);
      expect(wrongModel.status).toBe(1);
      expect(wrongModel.stderr).toMatch(/^llmzip: wrong small model: .*\n$/);
      const notMsg = await llmzipAsync(["qa", "decode", taskFile, "--task", taskFile, "--small", SMALL]);
      expect(notMsg.stderr).toMatch(/not an llmzip QA message/);
    });

    it("rejects incomplete options as usage errors and leaves no message behind on failure", async () => {
      const msg = path.join(dir, "u.llmq");
      const noName = await llmzipAsync(["qa", "encode", "--task", taskFile, "--small", SMALL, "--large", server.url, "-o", msg]);
      expect(noName.status).toBe(2);
      expect(noName.stderr).toMatch(/needs --large-model/);
      const urlSmall = await llmzipAsync(["qa", "encode", "--task", taskFile, "--small", server.url, "--large", SMALL, "-o", msg]);
      expect(urlSmall.status).toBe(2);
      expect(urlSmall.stderr).toMatch(/--small must be a local GGUF/);
      const badN = await llmzipAsync(["qa", "encode", "--task", taskFile, "--small", SMALL, "--large", SMALL, "--questions", "x", "-o", msg]);
      expect(badN.status).toBe(2);
      const down = await llmzipAsync(["qa", "encode", "--task", taskFile, "--small", SMALL, "--large", "http://127.0.0.1:9/v1", "--large-model", "m", "--questions", "1", "--threads", "1", "-o", msg]);
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/cannot connect/);
      expect(fs.existsSync(msg)).toBe(false);
    });

    it("qa bench reports accuracies, the gap recovered and the bits on the fixture task set", async () => {
      // Three of the fixture's tasks: every model call is real, and CI runs on two loaded cores.
      const few = path.join(dir, "few.jsonl");
      const lines = fs.readFileSync(TASKS_FILE, "utf8").split("\n").filter((l) => l.startsWith("{"));
      fs.writeFileSync(few, lines.slice(0, 3).join("\n"));
      const r = await llmzipAsync(["qa", "bench", "--tasks", few, "--small", SMALL, "--large", server.url, "--large-model", "large", "--questions", "0,1", "--threads", "1", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as {
        tasks: number;
        small: { accuracy: number };
        large: { accuracy: number; meanAnswerBytes: number };
        rows: { k: number; accuracy: number; gapRecovered: number | null; plainBits: number; messageBytes: number; ratio: number }[];
        perTask: { answers: boolean[] }[];
      };
      expect(report.tasks).toBe(3);
      expect(report.large.accuracy).toBe(1);
      expect(report.rows.map((x) => x.k)).toEqual([0, 1]);
      for (const row of report.rows) {
        expect(row.plainBits).toBe(row.k);
        expect(row.messageBytes).toBe(headerLength(row.k) + Math.ceil(row.k / 8));
        expect(row.gapRecovered).toBeCloseTo((row.accuracy - report.small.accuracy) / (1 - report.small.accuracy), 9);
        expect(row.ratio).toBeCloseTo(row.k / (report.large.meanAnswerBytes * 8), 9);
      }
      expect(report.perTask.every((t) => t.answers.length === 1)).toBe(true);
      const two = path.join(dir, "two.jsonl");
      fs.writeFileSync(two, lines.slice(0, 2).join("\n"));
      // The same command is also `llmzip bench qa`, beside the compression benchmark.
      const text = await llmzipAsync(["bench", "qa", "--tasks", two, "--small", SMALL, "--large", server.url, "--large-model", "large", "--questions", "1", "--threads", "1"]);
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/large alone +100\.0% \(2\/2/);
      expect(text.stdout).toMatch(/\n +1 +\d+\.\d%/);
    }, 300_000);
  });
});
