import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findProgram, parseBaselineList, resolveBaselines } from "../src/bench/baselines.js";
import { renderChart } from "../src/bench/chart.js";
import { evaluateChecks, parseCheck } from "../src/bench/check.js";
import { expandInputs, shortLabels } from "../src/bench/inputs.js";
import { renderMarkdown } from "../src/bench/markdown.js";
import { computeTotals } from "../src/bench/run.js";
import { renderTable } from "../src/bench/table.js";
import { UsageError } from "../src/errors.js";
import { progressLine } from "../src/cli/progress-text.js";
import { tempDir } from "./helpers/cli.js";
import { file, report } from "./helpers/bench-report.js";
import type { FileResult } from "../src/bench/report.js";

describe("--check parser", () => {
  it("parses the forms the issue names", () => {
    expect(parseCheck("roundTrip")).toEqual({ kind: "roundTrip", text: "roundTrip" });
    expect(parseCheck("overheadPct<=0.1")).toMatchObject({ kind: "metric", scope: "file", metric: "overheadPct", op: "<=", value: 0.1 });
    expect(parseCheck("bpb<=2.5")).toMatchObject({ kind: "metric", metric: "bpb", op: "<=", value: 2.5 });
    expect(parseCheck("beats=xz")).toMatchObject({ kind: "beats", scope: "file", baselines: ["xz"] });
  });

  it("takes scopes, every operator, lists, case and spaces", () => {
    expect(parseCheck("total.bpb < 2")).toMatchObject({ scope: "total", metric: "bpb", op: "<", value: 2 });
    expect(parseCheck("totals.beats=xz,zstd")).toMatchObject({ kind: "beats", scope: "total", baselines: ["xz", "zstd"] });
    expect(parseCheck("beats=all")).toMatchObject({ kind: "beats", baselines: "all" });
    expect(parseCheck("EVALONLYTOKENSPERSEC>=1e3")).toMatchObject({ metric: "evalOnlyTokensPerSec", op: ">=", value: 1000 });
    expect(parseCheck("modelBpb>0.5")).toMatchObject({ op: ">", value: 0.5 });
    expect(parseCheck("bytes==100")).toMatchObject({ op: "=", value: 100 });
    expect(parseCheck("overheadPct<=-0.5")).toMatchObject({ value: -0.5 });
  });

  it("rejects what it cannot read, as usage errors naming the problem", () => {
    const bad: [string, RegExp][] = [
      ["", /expected roundTrip/],
      ["speed<=3", /unknown name 'speed'/],
      ["bpb", /compare bpb with a number/],
      ["bpb<=fast", /'fast' is not a number/],
      ["bpb<=1..2", /not a number/],
      ["roundTrip=true", /takes no comparison/],
      ["beats=lz4", /unknown baseline 'lz4'/],
      ["beats<xz", /write beats=NAME/],
      ["beats=", /name a baseline/],
      ["bpb<=", /compare bpb with a number/],
      ["bpb=>2", /not a number|expected/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseCheck(text), text).toThrow(UsageError);
      expect(() => parseCheck(text), text).toThrow(why);
    }
  });
});

describe("check evaluation", () => {
  const files = [file("a.txt", 1000, 200, 300), file("b.txt", 1000, 310, 300, { overheadPct: 0.8 })];

  it("names every file that fails, and passes what holds", () => {
    const r = report(files);
    const [rt, bpb, total, beats, ovh] = evaluateChecks(r, ["bpb<=2", "total.bpb<=2.1", "beats=xz", "overheadPct<=0.5"].map(parseCheck));
    expect(rt).toMatchObject({ check: "roundTrip", passed: true });
    expect(bpb).toMatchObject({ passed: false, failures: ["b.txt: bpb 2.48"] });
    expect(total).toMatchObject({ passed: true, failures: [] });
    expect(beats).toMatchObject({ passed: false, failures: ["b.txt: 310 bytes, xz 300"] });
    expect(ovh).toMatchObject({ passed: false, failures: ["b.txt: overheadPct 0.8"] });
    // beats on the totals: 510 < 600.
    expect(evaluateChecks(r, [parseCheck("total.beats=xz")])[1]?.passed).toBe(true);
  });

  it("always checks the round trip, once, first", () => {
    const broken = report([file("a.txt", 1000, 200, 300), file("c.txt", 1000, 200, 300, { roundTrip: false, roundTripError: "chunk 1 of 1 fails its checksum" })]);
    const results = evaluateChecks(broken, [parseCheck("bpb<=8")]);
    expect(results.map((c) => c.check)).toEqual(["roundTrip", "bpb<=8"]);
    expect(results[0]).toMatchObject({ passed: false, failures: ["c.txt: chunk 1 of 1 fails its checksum"] });
    expect(evaluateChecks(broken, [parseCheck("roundTrip")])).toHaveLength(1);
    expect(broken.totals.llmzip).toMatchObject({ roundTrip: false, roundTripFailures: 1 });
  });

  it("skips files a metric is undefined for, and fails a check that measured nothing", () => {
    const plain = file("p.txt", 1000, 300, 400, { method: "plain", tokens: 0, modelBytes: 0, modelBits: null, modelBpb: null, overheadPct: null, compressTokensPerSec: null });
    const mixed = evaluateChecks(report([files[0] as FileResult, plain]), [parseCheck("overheadPct<=0.5")])[1];
    expect(mixed).toMatchObject({ passed: true, notApplicable: ["p.txt"] });
    const none = evaluateChecks(report([plain]), [parseCheck("overheadPct<=0.5"), parseCheck("total.compressTokensPerSec>=1")]);
    expect(none[1]?.passed).toBe(false);
    expect(none[1]?.failures[0]).toMatch(/nothing to measure.*--force-model/);
    expect(none[2]?.passed).toBe(false);
  });

  it("fails beats= for a baseline that did not run, saying why", () => {
    const [, zstd, all] = evaluateChecks(report(files), [parseCheck("beats=zstd"), parseCheck("beats=all")]);
    expect(zstd).toMatchObject({ passed: false, failures: ["zstd did not run (zstd not on PATH)"] });
    expect(all).toMatchObject({ passed: false, failures: ["b.txt: 310 bytes, xz 300"] });
  });
});

describe("totals", () => {
  it("are ratios of sums, token rates over model-coded files only", () => {
    const plain = file("p.txt", 3000, 900, 1200, { method: "plain", tokens: 0, modelBytes: 0, modelBits: null, modelBpb: null, overheadPct: null, streamBytes: 0, compressTokensPerSec: null, decompressTokensPerSec: null, evalOnlyTokensPerSec: null, evalOnlySeconds: null });
    const t = computeTotals([file("a.txt", 1000, 200, 300), plain], ["gzip", "xz"]);
    expect(t.bytes).toBe(4000);
    expect(t.llmzip.bytes).toBe(1100);
    expect(t.llmzip.bpb).toBeCloseTo((1100 * 8) / 4000, 12);
    expect(t.llmzip.modelBpb).toBeCloseTo((200 * 8 * 0.99) / 1000, 12);
    expect(t.llmzip.overheadPct).toBeCloseTo(((180 * 8) / (200 * 8 * 0.99) - 1) * 100, 9);
    expect(t.llmzip.compressTokensPerSec).toBeCloseTo(1000, 9);
    expect(t.llmzip.evalOnlyTokensPerSec).toBeCloseTo(2000, 9);
    expect(t.llmzip.compressBytesPerSec).toBeCloseTo(4000 / 2, 9);
    expect(t.baselines.xz).toMatchObject({ bytes: 1500, bpb: (1500 * 8) / 4000 });
  });
});

describe("baselines", () => {
  it("parses --baselines lists", () => {
    expect(parseBaselineList("none")).toEqual([]);
    expect(parseBaselineList("all")).toEqual(["gzip", "brotli", "xz", "zstd", "bzip2", "zpaq"]);
    expect(parseBaselineList("xz, GZIP")).toEqual(["gzip", "xz"]);
    expect(() => parseBaselineList("gzip,lz4")).toThrow(/unknown baseline 'lz4'/);
  });

  it("runs gzip and brotli without any program, and lists programs it cannot find", async () => {
    const { run, skipped } = resolveBaselines(["gzip", "brotli", "xz", "zstd", "bzip2"], "/nonexistent");
    expect(run.map((b) => b.name)).toEqual(["gzip", "brotli"]);
    expect(skipped.map((s) => `${s.name}: ${s.reason}`)).toEqual(["xz: xz not on PATH", "zstd: zstd not on PATH", "bzip2: bzip2 not on PATH"]);
    const data = Buffer.from("abc ".repeat(500));
    for (const b of run) expect((await b.compress(data)).length).toBeLessThan(100);
  });

  it("finds programs on PATH and feeds them stdin", async () => {
    const dir = tempDir();
    const fake = path.join(dir, "xz");
    // A stand-in for xz that proves its stdin arrived: it prints the byte count.
    fs.writeFileSync(fake, "#!/bin/sh\nwc -c\n", { mode: 0o755 });
    expect(findProgram("xz", `/nonexistent${path.delimiter}${dir}`)).toBe(fake);
    const { run } = resolveBaselines(["xz"], dir);
    const out = await run[0]?.compress(Buffer.alloc(12345, 97));
    expect(out?.toString().trim()).toBe("12345");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'xz: out of memory' >&2\nexit 1\n", { mode: 0o755 });
    await expect(resolveBaselines(["xz"], dir).run[0]?.compress(Buffer.from("x"))).rejects.toThrow("xz -9e failed: xz: out of memory");
  });
});

describe("inputs", () => {
  it("labels files by the fewest path components that tell them apart", () => {
    expect(shortLabels(["/c/canterbury/alice29.txt", "/c/calgary/book1"])).toEqual(["alice29.txt", "book1"]);
    expect(shortLabels(["/a/x/paper1", "/b/y/paper1", "/b/y/z"])).toEqual(["x/paper1", "y/paper1", "z"]);
  });

  it("expands folders recursively in name order, skipping dot files, once per file", () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "sub"));
    for (const f of ["b.txt", "a.txt", ".hidden", "sub/c.txt"]) fs.writeFileSync(path.join(dir, f), f);
    const got = expandInputs([dir, path.join(dir, "a.txt")]);
    expect(got.map((g) => g.name)).toEqual(["a.txt", "b.txt", "c.txt"]);
    expect(() => expandInputs([path.join(dir, "missing")])).toThrow(/no such file or directory/);
    expect(() => expandInputs([])).toThrow(UsageError);
    fs.mkdirSync(path.join(dir, "empty"));
    expect(() => expandInputs([path.join(dir, "empty")])).toThrow(/no files in this folder/);
  });
});

describe("reports", () => {
  const r = report([file("a|b.txt", 1000, 200, 300), file("<c>.txt", 2000, 700, 600, { roundTrip: false, roundTripError: "boom" })]);

  it("the table aligns every row to the header", () => {
    const text = renderTable(r, { color: false });
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^file\s+bytes\s+llmzip B\s+llmzip\s+gzip\s+xz\s+model/);
    const head = lines[0] ?? "";
    // Right-aligned numbers end under their header; text starts under it.
    const bytesEnd = head.indexOf("bytes") + "bytes".length;
    const rtStart = head.indexOf("round trip");
    const rows = [lines[2], lines[3], lines[5]].map((l) => l ?? "");
    expect(rows.map((l) => l.slice(0, bytesEnd).trim().split(/\s+/).pop())).toEqual(["1,000", "2,000", "3,000"]);
    expect(rows.map((l) => l.slice(rtStart))).toEqual(["ok", "FAILED", "FAILED"]);
    expect(text).toContain("FAILED");
    expect(text).toContain("skipped: zstd --ultra -22 (zstd not on PATH)");
    expect(renderTable(r, { color: true })).toContain("\u001b[");
    expect(text).not.toContain("\u001b[");
  });

  it("the markdown report has the setting, both tables and escaped names", () => {
    const md = renderMarkdown(r, { chart: "chart.svg" });
    expect(md).toContain("- Date: 2026-01-02");
    expect(md).toContain("| a\\|b.txt | 1,000 | **1.600** | 4.800 | 2.400 |");
    expect(md).toContain("![bits per byte per file and compressor](chart.svg)");
    expect(md).toContain("**FAILED**: boom");
    expect(md).toContain("Skipped: zstd --ultra -22 (zstd not on PATH).");
  });

  it("the chart is one SVG document with a bar per file, compressor and the totals", () => {
    const svg = renderChart(r);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    // 3 groups (2 files + total) x 3 series, plus 3 legend swatches and the background.
    expect(svg.match(/<rect /g)).toHaveLength(3 * 3 + 3 + 1);
    expect(svg).toContain("&lt;c&gt;.txt");
    expect(svg).toContain("llmzip (tiny&lt;&amp;&gt;)");
    expect(svg).not.toMatch(/<c>|tiny<&>/);
    expect(svg).toContain(">bits per byte</text>");
  });
});

describe("progress line", () => {
  it("names bench's own steps, and shows a rate only once there is one", () => {
    expect(progressLine("a.txt", { phase: "eval", done: 50, total: 100 }, 0.01, 10)).toBe("a.txt eval █████░░░░░  50%");
    expect(progressLine("a.txt", { phase: "eval", done: 50, total: 100 }, 1, 10)).toBe("a.txt eval █████░░░░░  50% 50 tok/s ETA 0:01");
    expect(progressLine("a.txt", { phase: "baselines", done: 1, total: 4, unit: "" }, 2, 4)).toBe("a.txt baselines █░░░  25%");
  });
});
