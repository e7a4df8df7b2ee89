import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseArchive } from "../src/container/format.js";
import { evaluateChecks, parseCheck } from "../src/bench/check.js";
import { runBench, type BenchHooks } from "../src/bench/run.js";
import { benchCommand } from "../src/cli/bench.js";
import { compress } from "../src/codec/compress.js";
import type { LaneRun } from "../src/codec/options.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { repoRoot } from "./helpers/shared.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
/** Children's-story text of our own: the one kind of text stories260K codes better than every baseline. */
const STORY = path.join(repoRoot, "bench", "fixtures", "story.txt");
const LISP = corpusPath("canterbury/grammar.lsp");

/** Flips one byte in the middle of the range-coded stream of a model-coded archive. */
function corruptStream(archive: Uint8Array): Uint8Array {
  const { header } = parseArchive(archive);
  const blobs = header.chunks.reduce((n, c) => n + (c.method === 0 ? 0 : c.codedLength), 0);
  const streamLength = header.streams.reduce((n, s) => n + s.codedLength, 0);
  expect(streamLength).toBeGreaterThan(4);
  const copy = Uint8Array.from(archive);
  const at = archive.length - blobs - streamLength + Math.floor(streamLength / 2);
  copy[at] = (copy[at] ?? 0) ^ 0x55;
  return copy;
}

describe("runBench with stories260K", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  it("measures llmzip and the built-in baselines, and round-trips every file", async () => {
    const binary = fs.readFileSync(corpusPath("canterbury/sum")).subarray(0, 3000);
    const report = await runBench(
      [{ name: "story.txt", path: STORY }, { name: "grammar.lsp", path: LISP }, { name: "sum", data: binary }, { name: "empty", data: new Uint8Array(0) }],
      { model: MODEL, engine, searchPath: "/nonexistent" },
    );
    expect(report.baselines.ran.map((b) => b.name)).toEqual(["gzip", "brotli"]);
    expect(report.baselines.skipped.map((b) => b.name)).toEqual(["xz", "zstd", "bzip2", "zpaq"]);
    expect(report.files.map((f) => f.file)).toEqual(["story.txt", "grammar.lsp", "sum", "empty"]);
    const [story, lisp, sum, empty] = report.files;
    for (const f of report.files) {
      expect(f.llmzip.roundTrip).toBe(true);
      expect(Object.keys(f.baselines)).toEqual(["gzip", "brotli"]);
      if (f.bytes > 0) expect(f.llmzip.bpb).toBeCloseTo((f.llmzip.bytes * 8) / f.bytes, 12);
    }
    // The story is model-coded and beats both baselines; every rate was measured.
    const s = story?.llmzip;
    expect(s?.method).toBe("model");
    expect(s?.bytes).toBeLessThan(story?.baselines.brotli?.bytes ?? 0);
    expect(s?.modelBpb).toBeCloseTo((s?.modelBits ?? 0) / (s?.modelBytes ?? 1), 12);
    expect(s?.modelBpb).toBeLessThan(1.2);
    expect(s?.overheadPct).toBeCloseTo((((s?.streamBytes ?? 0) * 8) / (s?.modelBits ?? 1) - 1) * 100, 9);
    for (const k of ["compressTokensPerSec", "decompressTokensPerSec", "evalOnlyTokensPerSec", "compressBytesPerSec", "decompressBytesPerSec"] as const) expect(s?.[k]).toBeGreaterThan(0);
    // Lisp and the binary go to brotli with this model: no model numbers, but sizes and a round trip.
    for (const f of [lisp, sum]) {
      expect(f?.llmzip.method).toBe("plain");
      expect(f?.llmzip.modelBpb).toBeNull();
      expect(f?.llmzip.evalOnlyTokensPerSec).toBeNull();
      expect(f?.llmzip.bytes).toBeLessThanOrEqual((f?.baselines.brotli?.bytes ?? 0) + 64);
    }
    expect(empty?.llmzip.bpb).toBeNull();
    expect(report.totals.bytes).toBe(report.files.reduce((n, f) => n + f.bytes, 0));
    expect(report.totals.llmzip.tokens).toBe(s?.tokens);
    expect(report.model).toMatchObject({ name: "stories260K", vocabSize: 512, backend: "cpu", threads: 1 });
    expect(report.model.sha256).toMatch(/^65964387[0-9a-f]{56}$/);
  });

  it("replays the archive's own lane schedule for the eval-only pass", async () => {
    const data = fs.readFileSync(LISP);
    let schedule: LaneRun[] = [];
    const { archive, stats } = await compress(data, { model: MODEL, engine, forceModel: true, lanes: 3, onSchedule: (s) => (schedule = s) });
    const { header } = parseArchive(archive);
    // One stream (no adapters): one lane run with the stream's lanes, the header's window and carry, one span per lane.
    expect(schedule).toHaveLength(1);
    const [run] = schedule;
    expect(run?.settings).toMatchObject({ lanes: header.streams[0]?.lanes, ctx: header.settings?.ctx, carry: header.settings?.carry, adapters: [] });
    expect(run?.chunks).toHaveLength(3);
    expect(run?.chunks.reduce((n, c) => n + c.length, 0)).toBe(header.chunks.filter((c) => c.method === 0).reduce((n, c) => n + c.tokenCount, 0));
    expect(run?.chunks.reduce((n, c) => n + c.length, 0)).toBe(stats.lanes?.tokens);
    // No schedule when nothing is model-coded.
    let called = false;
    await compress(data, { model: MODEL, engine, onSchedule: () => (called = true) });
    expect(called).toBe(false);
  });

  it("a corrupted archive or output fails the round trip, and the checks say so", async () => {
    const hooks: BenchHooks[] = [{ archive: (a, f) => (f === "story.txt" ? corruptStream(a) : a) }, { output: (d, f) => (f === "story.txt" ? Buffer.concat([d, Buffer.from("!")]) : d) }];
    const why = [/corrupt|fails its checksum/, /the output differs from the input/];
    for (const [i, h] of hooks.entries()) {
      const report = await runBench([{ name: "story.txt", path: STORY }, { name: "grammar.lsp", path: LISP }], { model: MODEL, engine, baselines: ["gzip"], hooks: h });
      expect(report.files.map((f) => f.llmzip.roundTrip)).toEqual([false, true]);
      expect(report.files[0]?.llmzip.roundTripError).toMatch(why[i] as RegExp);
      const checks = evaluateChecks(report, [parseCheck("bpb<=8")]);
      expect(checks.map((c) => [c.check, c.passed])).toEqual([
        ["roundTrip", false],
        ["bpb<=8", true],
      ]);
      expect(checks[0]?.failures[0]).toMatch(/^story\.txt: /);
    }
  });
});

describe("bench command", () => {
  const run = (args: string[]) => llmzip(["bench", "--threads", "1", "-m", MODEL, ...args]);

  it("--json prints one document with the fields the issue lists", () => {
    const r = run(["--json", "--check", "beats=xz", "--check", "roundTrip", STORY, LISP]);
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout.toString());
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(["model", "files", "totals", "baselines", "machine", "checks", "passed"]));
    expect(doc.model.name).toBe("stories260K");
    expect(doc.files).toHaveLength(2);
    for (const f of doc.files) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(["file", "bytes", "llmzip", "baselines"]));
      expect(Object.keys(f.llmzip)).toEqual(
        expect.arrayContaining(["bytes", "bpb", "modelBpb", "overheadPct", "compressTokensPerSec", "decompressTokensPerSec", "evalOnlyTokensPerSec", "roundTrip"]),
      );
      expect(f.llmzip.roundTrip).toBe(true);
      for (const name of ["gzip", "brotli"]) expect(Object.keys(f.baselines[name])).toEqual(expect.arrayContaining(["bytes", "bpb", "seconds"]));
    }
    // Every baseline either ran or is listed as skipped.
    const all = [...doc.baselines.ran, ...doc.baselines.skipped].map((b: { name: string }) => b.name).sort();
    expect(all).toEqual(["brotli", "bzip2", "gzip", "xz", "zpaq", "zstd"]);
    expect(doc.totals.bytes).toBe(doc.files[0].bytes + doc.files[1].bytes);
    expect(doc.checks.map((c: { check: string; passed: boolean }) => [c.check, c.passed])).toEqual([
      ["beats=xz", doc.baselines.ran.some((b: { name: string }) => b.name === "xz")],
      ["roundTrip", true],
    ]);
  });

  it("exits 1 naming every failed check, and still writes the reports", () => {
    const dir = tempDir();
    const md = path.join(dir, "report.md");
    const svg = path.join(dir, "charts", "bpb.svg");
    fs.mkdirSync(path.dirname(svg));
    const r = run(["--baselines", "gzip,brotli", "--check", "bpb<=0.1", "--check", "total.modelBpb<=0.01", "--check", "beats=brotli", "--markdown", md, "--chart", svg, STORY, LISP]);
    expect(r.status).toBe(1);
    const lines = r.stderr.toString().trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^llmzip: check failed: bpb<=0\.1: story\.txt: bpb 1\.\d+; grammar\.lsp: bpb 2\.\d+$/);
    expect(lines[1]).toMatch(/^llmzip: check failed: total\.modelBpb<=0\.01: total: modelBpb 0\.\d+$/);
    // Brotli's own chunk inside the archive costs a few bytes more than bare brotli.
    expect(lines[2]).toMatch(/^llmzip: check failed: beats=brotli: grammar\.lsp: \d+ bytes, brotli \d+$/);
    // The table went to stdout (no colors into a pipe).
    expect(r.stdout.toString()).toMatch(/^file +bytes +llmzip B +llmzip +gzip +brotli +model/);
    expect(r.stdout.toString()).not.toContain("\u001b[");
    expect(fs.readFileSync(md, "utf8")).toContain("![bits per byte per file and compressor](charts/bpb.svg)");
    expect(fs.readFileSync(md, "utf8")).toContain("**FAIL** `bpb<=0.1`");
    expect(fs.readFileSync(svg, "utf8")).toMatch(/^<svg [^]*<\/svg>\n$/);
  });

  it("passes --adapter through to compress and decompress", () => {
    const lora = modelPath("stories260K-lora-random.gguf");
    const r = run(["--json", "--baselines", "none", "--force-model", "--adapter", `${lora}:0.5`, LISP]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout.toString());
    expect(doc.settings.adapters).toEqual([{ path: lora, scale: 0.5 }]);
    expect(doc.files[0].llmzip).toMatchObject({ method: "model", roundTrip: true });
    expect(doc.baselines.ran).toEqual([]);
    // --adapter auto: compress chooses per chunk; decompress finds the chosen adapter by fingerprint.
    const auto = run(["--json", "--baselines", "none", "--force-model", "--adapter", "auto", "--adapter", lora, "--trial-tokens", "32", LISP]);
    expect(auto.status).toBe(0);
    const autoDoc = JSON.parse(auto.stdout.toString());
    expect(autoDoc.settings.adapterCandidates).toEqual([[], [{ path: lora, scale: 1 }]]);
    expect(autoDoc.files[0].llmzip.roundTrip).toBe(true);
  });

  it("usage mistakes exit 2 with one line, before loading anything", () => {
    for (const [args, msg] of [
      [["--check", "speed<3", STORY], /^llmzip: bad --check 'speed<3': unknown name 'speed'/],
      [["--baselines", "lz4", STORY], /^llmzip: unknown baseline 'lz4'/],
    ] as [string[], RegExp][]) {
      const r = run(args);
      expect(r.status).toBe(2);
      expect(r.stderr.toString()).toMatch(msg);
      expect(r.stderr.toString().trimEnd().split("\n")).toHaveLength(1);
    }
    const missing = run([path.join(tempDir(), "nope.txt")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.toString()).toMatch(/^llmzip: .*nope\.txt: no such file or directory\n$/);
  });

  it("a corrupted round trip makes the command fail even without --check", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const so = vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    const se = vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
    let code: number;
    try {
      code = await benchCommand([STORY], { model: MODEL, threads: 1, gpu: "off", baselines: ["gzip"], quiet: true }, { archive: corruptStream });
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    expect(code).toBe(1);
    expect(err.join("")).toMatch(/^llmzip: check failed: roundTrip: story\.txt: .*(corrupt|checksum)/);
    expect(out.join("")).toContain("FAILED");
  });
});
