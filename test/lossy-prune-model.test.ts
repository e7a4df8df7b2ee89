import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { parseArchive } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { UsageError } from "../src/errors.js";
import { lossyInfo } from "../src/lossy/archive.js";
import { compressPruned, inputText } from "../src/lossy/compress.js";
import { measureCodedInformation, measureInformation } from "../src/lossy/information.js";
import { DEFAULT_PRUNE_POLICY, isWordSubsequence, pruneText, scoreText } from "../src/lossy/prune.js";
import type { PruneBenchReport } from "../src/bench/prune.js";
import { llmzipAsync, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath, repoRoot, sharedDir } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
/** Prefix of each corpus file: every text file is tried, so each must be quick. */
const PREFIX = 2000;

/** The first `max` bytes of a file, cut after a newline so that no UTF-8 character is split. */
function prefix(file: string, max = PREFIX): Buffer {
  const data = fs.readFileSync(file);
  if (data.length <= max) return data;
  const cut = data.lastIndexOf(0x0a, max);
  return data.subarray(0, cut > 0 ? cut + 1 : max);
}

function corpusTextFiles(): string[] {
  const root = path.join(sharedDir(), "corpora");
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          inputText(prefix(p));
          out.push(p);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
        }
      }
    }
  };
  walk(root);
  return out;
}

describe("pruning with the coding model", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { threads: 1 });
  });
  afterAll(() => engine.close());

  it("returns exactly the kept text, whose words are the original's in order, on every corpus text file", async () => {
    const files = corpusTextFiles();
    expect(files.length).toBeGreaterThan(30);
    for (const [i, file] of files.entries()) {
      const data = prefix(file);
      const keep = [0.3, 0.5, 0.7][i % 3] as number;
      const r = await compressPruned(data, { model: MODEL, engine, keep });
      const back = await decompress(r.archive, { engine });
      expect(Buffer.compare(back.data, r.kept), file).toBe(0);
      expect(isWordSubsequence(back.data, data), file).toBe(true);
      // A text without whitespace (misc/e.txt: digits) is one word, which is never cut in half.
      if (r.lossy.words > 1) expect(r.lossy.keptTokens, file).toBeLessThan(r.lossy.totalTokens);
      else expect(Buffer.compare(r.kept, data), file).toBe(0);
      const info = lossyInfo(parseArchive(r.archive).header);
      expect(info, file).toMatchObject({ method: "prune", keep, policy: "sentence", originalBytes: data.length, rewriteBytes: r.kept.length });
    }
    // Some 40 files: minutes on a busy 2-core machine.
  }, 900_000);

  it("keeps about KEEP of the tokens, and smaller KEEPs give smaller archives than lossless", { timeout: 300_000 }, async () => {
    const data = prefix(corpusPath("canterbury/alice29.txt"), 6000);
    const lossless = await compress(data, { model: MODEL, engine });
    const sizes: number[] = [];
    for (const keep of [0.3, 0.5, 0.7]) {
      const r = await compressPruned(data, { model: MODEL, engine, keep });
      // Whole words go: at most KEEP remains, short of it by less than the longest word.
      expect(r.lossy.keptTokens / r.lossy.totalTokens).toBeLessThanOrEqual(keep + 0.01);
      expect(r.lossy.keptTokens / r.lossy.totalTokens).toBeGreaterThan(keep - 0.02);
      sizes.push(r.archive.length);
    }
    expect(sizes[0]).toBeLessThan(sizes[1] as number);
    expect(sizes[1]).toBeLessThan(sizes[2] as number);
    expect(sizes[2]).toBeLessThan(lossless.archive.length);
  });

  it("scores tokens so that they add up to the model's bits and cover the text", async () => {
    const data = prefix(corpusPath("canterbury/alice29.txt"), 2000);
    const s = await scoreText(data, { engine });
    expect(s.tokens.reduce((n, t) => n + t.bits, 0)).toBeCloseTo(s.bits, 6);
    expect(s.tokens[0]?.start).toBe(0);
    expect(s.tokens.at(-1)?.end).toBe(data.length);
    for (let i = 1; i < s.tokens.length; i++) expect(s.tokens[i]?.start).toBe(s.tokens[i - 1]?.end);
  });

  /**
   * The information measure must rank: the whole text > pruning at 0.7 >
   * pruning at 0.3 > an unrelated text of the same length. It needs a model
   * that uses what it has read: the shipped llmzip-en (stories260K gains
   * nothing from reading the whole text first: docs/LOSSY.md).
   */
  it("ranks full text > prune 0.7 > prune 0.3 > unrelated text with a model that reads its context", { timeout: 300_000 }, async () => {
    const m = LlamaEngine.open(path.join(repoRoot, "models", "llmzip-en.gguf"), { threads: 1 });
    try {
      const data = prefix(corpusPath("canterbury/alice29.txt"), 1500);
      const unrelated = prefix(corpusPath("loghub/Apache_2k.log"), data.length);
      const info = async (t: Uint8Array) => (await measureInformation(data, t, { engine: m })).informationBits;
      const full = await info(data);
      const s = await scoreText(data, { engine: m });
      const at7 = await info(pruneText(data, s.tokens, 0.7, "word-mean").text);
      const at3 = await info(pruneText(data, s.tokens, 0.3, "word-mean").text);
      const other = await info(unrelated);
      expect(full).toBeGreaterThan(at7);
      expect(at7).toBeGreaterThan(at3);
      expect(at3).toBeGreaterThan(other);
    } finally {
      m.close();
    }
  });

  /**
   * The coded measure reads the kept text through the context mixer's
   * history, which spans the whole stream: it must rank beyond one context
   * window (6 KB is some 2,000 tokens, four windows of llmzip-en), for the
   * shipped policy and the word-level one, against unrelated text in another
   * format and in the same language.
   */
  it("the coded measure ranks full text > prune 0.7 > prune 0.3 > unrelated text beyond one context window", { timeout: 600_000 }, async () => {
    const m = LlamaEngine.open(path.join(repoRoot, "models", "llmzip-en.gguf"), { threads: 1 });
    try {
      const data = prefix(corpusPath("canterbury/alice29.txt"), 6000);
      const alone = (await measureCodedInformation(data, new Uint8Array(0), { engine: m })).bitsAlone;
      const info = async (t: Uint8Array) => (await measureCodedInformation(data, t, { engine: m, bitsAlone: alone })).informationBits;
      const full = await info(data);
      // Read twice, a text costs next to nothing the second time.
      expect(full).toBeGreaterThan(0.9 * alone);
      const s = await scoreText(data, { engine: m });
      const unrelated = [prefix(corpusPath("loghub/Apache_2k.log"), data.length), prefix(corpusPath("gutenberg/pg1661.txt"), data.length)];
      const others: number[] = [];
      // One run at a time: the engine codes one stream at once.
      for (const u of unrelated) others.push(await info(u));
      for (const policy of [DEFAULT_PRUNE_POLICY, "word-mean"] as const) {
        const at7 = await info(pruneText(data, s.tokens, 0.7, policy).text);
        const at3 = await info(pruneText(data, s.tokens, 0.3, policy).text);
        expect(full, policy).toBeGreaterThan(at7);
        expect(at7, policy).toBeGreaterThan(at3);
        for (const other of others) expect(at3, policy).toBeGreaterThan(other);
      }
    } finally {
      m.close();
    }
  });
});

describe("llmzip compress --lossy --prune", () => {
  const dir = tempDir();
  const input = path.join(dir, "alice.txt");
  beforeAll(() => fs.writeFileSync(input, prefix(corpusPath("canterbury/alice29.txt"), 4000)));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes a lossy archive that info describes and decompress turns into the kept text, saying it is lossy", async () => {
    const archive = path.join(dir, "a.llmz");
    const c = await llmzipAsync(["compress", "--lossy", "--prune", "0.5", "-m", MODEL, "--threads", "1", "-o", archive, input]);
    expect(c.status, c.stderr).toBe(0);
    const engine = LlamaEngine.open(MODEL, { threads: 1 });
    let kept: Uint8Array;
    try {
      kept = (await compressPruned(fs.readFileSync(input), { model: MODEL, engine, keep: 0.5 })).kept;
    } finally {
      engine.close();
    }
    const d = await llmzipAsync(["decompress", "-m", MODEL, "--threads", "1", "-o", path.join(dir, "out.txt"), archive]);
    expect(d.status, d.stderr).toBe(0);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, "out.txt")), kept)).toBe(0);
    expect(d.stderr).toMatch(/a\.llmz is lossy: the output is the [\d,]+-byte pruned text \(0\.5 of the tokens kept, policy sentence\)/);
    const i = await llmzipAsync(["info", archive]);
    expect(i.stdout).toMatch(/method +prune/);
    expect(i.stdout).toMatch(/keep +0\.5 of the tokens/);
    expect(i.stdout).toMatch(/policy +sentence/);
    const j = await llmzipAsync(["info", "--json", archive]);
    expect(JSON.parse(j.stdout)).toMatchObject({ lossy: { method: "prune", keep: 0.5, policy: "sentence" } });
  }, 300_000);

  it("refuses --prune with --rewriter*, a KEEP outside (0, 1) and an unknown policy: one line, exit 2, nothing written", async () => {
    const cases: [string[], RegExp][] = [
      [["--lossy", "--prune", "0.5", "--rewriter", MODEL], /two lossy methods/],
      [["--lossy", "--prune", "0.5", "--rewriter-url", "http://127.0.0.1:9/v1", "--rewriter-model", "x"], /two lossy methods/],
      [["--lossy", "--prune", "1"], /between 0 and 1 exclusive/],
      [["--lossy", "--prune", "abc"], /between 0 and 1 exclusive/],
      [["--lossy", "--prune", "0.5", "--prune-policy", "best"], /--prune-policy must be one of/],
      [["--prune", "0.5"], /need --lossy/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(dir, "never.llmz");
      const r = await llmzipAsync(["compress", ...args, "-m", MODEL, "-o", out, input]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it("bench --lossy --prune reports every KEEP per file and in total, with a chart", async () => {
    const second = path.join(dir, "log.txt");
    fs.writeFileSync(second, prefix(corpusPath("loghub/Apache_2k.log"), 1500));
    const chart = path.join(dir, "prune.svg");
    const r = await llmzipAsync(["bench", "-q", "--lossy", "--prune", "0.3", "--prune", "0.7", "-m", MODEL, "--threads", "1", "--json", "--chart", chart, input, second]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as PruneBenchReport;
    expect(report.settings).toMatchObject({ keeps: [0.3, 0.7], policy: "sentence" });
    expect(report.files.map((f) => f.file).sort()).toEqual(["alice.txt", "log.txt"]);
    for (const f of report.files) {
      expect(f.runs.map((x) => x.keep)).toEqual([0.3, 0.7]);
      for (const x of f.runs) {
        expect(x.roundTrip).toBe(true);
        expect(x.informationPerArchiveBit).toBeCloseTo(x.informationBits / (x.archiveBytes * 8), 9);
        expect(x.informationShare).toBeCloseTo(x.informationBits / f.bitsAlone, 9);
        expect(x.codedInformationPerArchiveBit).toBeCloseTo(x.codedInformationBits / (x.archiveBytes * 8), 9);
        expect(x.codedInformationShare).toBeCloseTo(x.codedInformationBits / f.codedBitsAlone, 9);
      }
      // Keeping more of the text tells the coder more about it.
      expect(f.codedBitsAlone).toBeGreaterThan(0);
      expect(f.runs[1]!.codedInformationBits).toBeGreaterThan(f.runs[0]!.codedInformationBits);
      expect(f.runs[0]!.archiveBytes).toBeLessThan(f.runs[1]!.archiveBytes);
    }
    expect(report.totals.runs[0]!.archiveBytes).toBe(report.files.reduce((n, f) => n + f.runs[0]!.archiveBytes, 0));
    const svg = fs.readFileSync(chart, "utf8");
    expect(svg).toContain("keep 0.3: information");
    expect(svg.match(/<polyline /g)).toHaveLength(5);
  }, 600_000);
});
