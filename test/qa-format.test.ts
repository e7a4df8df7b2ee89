import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptArchiveError, UnsupportedFormatError, UsageError } from "../src/errors.js";
import { summarise, type QaTaskResult } from "../src/qa/bench.js";
import { BitDecoder, encodeBits, idealBits, quantize } from "../src/qa/bit-coder.js";
import { readYesNo } from "../src/qa/expert.js";
import { headerLength, packBits, parseMessage, serializeMessage, unpackBits, type QaHeader } from "../src/qa/message.js";
import { DEFAULT_QA_PROMPTS, promptsFromJson, promptsSha256, render } from "../src/qa/prompts.js";
import { questionOf, transcript } from "../src/qa/protocol.js";
import { isCorrect, parseTasks } from "../src/qa/tasks.js";
import { repoRoot } from "./helpers/shared.js";

/** A small deterministic generator, so that failures can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const header = (questions: number, arithmetic = false): QaHeader => ({
  version: 1,
  arithmetic,
  backend: "cpu",
  questions,
  smallModel: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  task: Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]),
  prompts: Uint8Array.from([7, 7, 7, 7, 7, 7, 7, 7]),
  finalCrc32: 0xdeadbeef,
});

describe("arithmetic coding of answers", () => {
  it("round-trips and costs at most the ideal bits plus two, padded to bytes", () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(rnd() * 60);
      const p = Array.from({ length: n }, () => rnd());
      // Answers drawn from the probabilities, as a good predictor would see them.
      const bits = p.map((q) => rnd() < q);
      const code = encodeBits(bits, p);
      const dec = new BitDecoder(code);
      expect(p.map((q) => dec.next(q))).toEqual(bits);
      expect(code.length).toBeLessThanOrEqual(Math.ceil((idealBits(bits, p) + 2) / 8));
    }
  });

  it("spends nothing on no answers and little on confidently predicted ones", () => {
    expect(encodeBits([], [])).toHaveLength(0);
    const sure = Array.from({ length: 40 }, () => 0.999);
    expect(encodeBits(Array(40).fill(true), sure).length).toBe(1);
    // Answers against the prediction cost more than one bit each.
    expect(encodeBits(Array(40).fill(false), sure).length).toBeGreaterThan(40 / 8);
  });

  it("quantizes probabilities into 1..4095 of 4096", () => {
    expect(quantize(0)).toBe(1);
    expect(quantize(1)).toBe(4095);
    expect(quantize(0.5)).toBe(2048);
    expect(quantize(Number.NaN)).toBe(2048);
  });
});

describe("QA message format", () => {
  it("is header plus ceil(N/8) bytes with plain answers", () => {
    for (const n of [0, 1, 7, 8, 9, 10, 127, 128, 1000]) {
      const bits = Array.from({ length: n }, (_, i) => i % 3 === 0);
      const bytes = serializeMessage({ header: header(n), payload: packBits(bits) });
      expect(bytes.length).toBe(headerLength(n) + Math.ceil(n / 8));
      const back = parseMessage(bytes);
      expect(back.header).toEqual(header(n));
      expect(unpackBits(back.payload, n)).toEqual(bits);
    }
    // magic 4, version, flags, backend, N (one byte below 128), three 8-byte fingerprints, CRC-32.
    expect(headerLength(10)).toBe(36);
    expect(headerLength(128)).toBe(37);
  });

  it("packs answers most significant bit first", () => {
    expect(Array.from(packBits([true, false, false, false, false, false, false, true, true]))).toEqual([0x81, 0x80]);
  });

  it("rejects damaged, foreign and newer messages", () => {
    const good = serializeMessage({ header: header(10), payload: packBits(Array(10).fill(true)) });
    expect(() => parseMessage(Buffer.from("LLMZ\x01"))).toThrow(/not an llmzip QA message/);
    const newer = Uint8Array.from(good);
    newer[4] = 2;
    expect(() => parseMessage(newer)).toThrow(UnsupportedFormatError);
    const flags = Uint8Array.from(good);
    flags[5] = 0x80;
    expect(() => parseMessage(flags)).toThrow(UnsupportedFormatError);
    expect(() => parseMessage(good.subarray(0, 20))).toThrow(CorruptArchiveError);
    const { payload } = parseMessage(good);
    expect(() => unpackBits(payload.subarray(0, 1), 10)).toThrow(/need 2 bytes/);
    expect(() => unpackBits(Uint8Array.from([0xff, 0xff]), 10)).toThrow(/padding/);
  });
});

describe("QA prompts", () => {
  it("replaces built-in prompts from JSON and changes their hash", () => {
    const p = promptsFromJson(JSON.stringify({ ask: { system: "", user: "Ask about {{task}}" } }), "p.json");
    expect(p.draft).toEqual(DEFAULT_QA_PROMPTS.draft);
    expect(p.ask.user).toBe("Ask about {{task}}");
    expect(render(p.ask, { task: "T" })).toEqual([{ role: "user", content: "Ask about T" }]);
    expect(promptsSha256(p).equals(promptsSha256(DEFAULT_QA_PROMPTS))).toBe(false);
    expect(() => promptsFromJson("{", "p.json")).toThrow(UsageError);
    expect(() => promptsFromJson(JSON.stringify({ asking: { system: "", user: "x" } }), "p.json")).toThrow(/unknown prompt 'asking'/);
    expect(() => promptsFromJson(JSON.stringify({ ask: { user: "x" } }), "p.json")).toThrow(/needs "system" and "user"/);
  });

  it("fills placeholders in one pass, never re-reading a field as a template", () => {
    const msgs = render({ system: "S", user: "{{task}} / {{draft}}" }, { task: "say {{draft}}", draft: "D" });
    expect(msgs[1]?.content).toBe("say {{draft}} / D");
  });

  it("shows the transcript as numbered questions and answers", () => {
    expect(transcript([])).toBe("(none)");
    expect(transcript([{ question: "Is it 7?", answer: true, pYes: 0.5 }, { question: "Is it red?", answer: false, pYes: 0.1 }])).toBe("Q1: Is it 7?\nA1: yes\nQ2: Is it red?\nA2: no");
    expect(questionOf("\n  Is it 7?  \nmore text")).toBe("Is it 7?");
  });
});

describe("answers and grading", () => {
  it("reads yes and no from an expert's words", () => {
    expect(readYesNo("Yes.")).toEqual({ answer: true, clear: true });
    expect(readYesNo("**No**, it is not.")).toEqual({ answer: false, clear: true });
    expect(readYesNo("I think yes")).toEqual({ answer: true, clear: true });
    expect(readYesNo("Correct")).toEqual({ answer: true, clear: true });
    expect(readYesNo("Maybe.")).toEqual({ answer: false, clear: false });
    expect(readYesNo("Hard to say: yes and no.")).toEqual({ answer: false, clear: false });
    expect(readYesNo("Yes and no.")).toEqual({ answer: true, clear: true });
  });

  it("grades answers by number, choice, containment and exact match", () => {
    expect(isCorrect("3 + 4 = 7", { answer: "7", check: "number" })).toBe(true);
    expect(isCorrect("She has 7 balls, not 3", { answer: "7", check: "number" })).toBe(false);
    expect(isCorrect("1,000 apples", { answer: "1000", check: "number" })).toBe(true);
    expect(isCorrect("The answer is (B) cow", { answer: "B", check: "choice" })).toBe(true);
    expect(isCorrect("A cow. Because", { answer: "B", check: "choice" })).toBe(false);
    expect(isCorrect("It is Paris, of course.", { answer: "Paris", check: "contains" })).toBe(true);
    expect(isCorrect("Parisian", { answer: "Paris", check: "contains" })).toBe(false);
    expect(isCorrect("  COLD! ", { answer: "cold", check: "exact" })).toBe(true);
  });

  it("parses the fixture task set and rejects bad task files", () => {
    const file = path.join(repoRoot, "fixtures", "qa", "tasks.jsonl");
    const tasks = parseTasks(fs.readFileSync(file, "utf8"), file);
    expect(tasks.length).toBe(8);
    for (const t of tasks) expect(isCorrect(t.answer, t)).toBe(true);
    expect(() => parseTasks('{"task": "x"}', "t.jsonl")).toThrow(/t\.jsonl:1: "answer"/);
    expect(() => parseTasks('{"task": "x", "answer": 1, "check": "fuzzy"}', "t.jsonl")).toThrow(/"check" must be/);
    expect(() => parseTasks('{"id": 1, "task": "x", "answer": 1}\n{"id": 1, "task": "y", "answer": 2}', "t.jsonl")).toThrow(/appears twice/);
    expect(() => parseTasks("\n// only a comment\n", "t.jsonl")).toThrow(/no tasks/);
  });

  it("summarises accuracy, the gap recovered and the bits against the large answer", () => {
    const r = (small: boolean, large: boolean, after: Record<number, boolean>): QaTaskResult => ({ id: "x", smallCorrect: small, largeCorrect: large, correctAfter: after, arithmeticBits: { 0: 0, 4: 8 }, idealBits: { 0: 0, 4: 1.5 }, answers: [], largeAnswerBytes: 10, unclear: 0 });
    const report = summarise([r(false, true, { 0: false, 4: true }), r(false, true, { 0: false, 4: false }), r(true, true, { 0: true, 4: true }), r(false, false, { 0: false, 4: false })], [0, 4], "s", "l", 1);
    expect(report.small.accuracy).toBe(0.25);
    expect(report.large.accuracy).toBe(0.75);
    const four = report.rows[1];
    expect(four?.accuracy).toBe(0.5);
    expect(four?.gapRecovered).toBeCloseTo(0.5, 12);
    expect(four?.ratio).toBeCloseTo((4 * 4) / (4 * 10 * 8), 12);
    expect(four?.messageBytes).toBe(headerLength(4) + 1);
    expect(four?.arithmeticBits).toBe(8);
    expect(four?.idealBits).toBe(1.5);
    expect(report.rows[0]?.gapRecovered).toBe(0);
    const noGap = summarise([r(true, true, { 1: true })], [1], "s", "l", 1);
    expect(noGap.rows[0]?.gapRecovered).toBeNull();
  });
});
