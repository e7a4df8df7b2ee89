import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findProgram, resolveBaselines } from "../src/bench/baselines.js";
import { evaluateChecks, parseCheck } from "../src/bench/check.js";
import { asSavedReport, compareReports, comparisonFailures, parseMaxRegression } from "../src/bench/compare.js";
import { renderJunit } from "../src/bench/junit.js";
import { renderMarkdown } from "../src/bench/markdown.js";
import type { BenchReport } from "../src/bench/report.js";
import { renderTable } from "../src/bench/table.js";
import { FileError, UsageError } from "../src/errors.js";
import { file, report } from "./helpers/bench-report.js";
import { tempDir } from "./helpers/cli.js";
import { checkJunit } from "./helpers/junit.js";

/** A report whose files carry content hashes, as runs of this build write them. */
function hashed(files: [name: string, hash: string, archive: number, extra?: Parameters<typeof file>[4]][]): BenchReport {
  return report(files.map(([name, sha256, archive, extra]) => ({ ...file(name, 1000, archive, 400, extra), sha256 })));
}

const saved = hashed([
  ["a.txt", "aa", 200],
  ["b.txt", "bb", 300],
  ["c.txt", "cc", 400],
  ["gone.txt", "dd", 100],
]);

describe("comparison with a saved report", () => {
  it("fails exactly the files that grew by more than the limit, and says by how much", () => {
    const now = hashed([
      ["a.txt", "aa", 203], // +1.5%: over the default 1%
      ["b.txt", "bb", 302], // +0.67%: allowed
      ["c.txt", "cc", 390], // smaller
    ]);
    const c = compareReports(now, saved, { path: "saved.json" });
    expect(c.maxRegressionPct).toBe(1);
    expect(c.files.map((f) => `${f.file}:${f.status}`)).toEqual(["a.txt:regression", "b.txt:larger", "c.txt:smaller"]);
    expect(c.passed).toBe(false);
    expect(c.missing).toEqual(["gone.txt"]);
    expect(c.total).toEqual({ bytes: 895, baselineBytes: 900, deltaPct: expect.closeTo((895 / 900 - 1) * 100, 9) });
    expect(comparisonFailures(c)).toEqual([{ file: "a.txt", message: "archive grew +1.50% (200 -> 203 bytes; allowed +1%)" }]);
    // A looser limit lets the same run pass; a tighter one catches b.txt too.
    expect(compareReports(now, saved, { path: "s", maxRegressionPct: 2 }).passed).toBe(true);
    expect(comparisonFailures(compareReports(now, saved, { path: "s", maxRegressionPct: 0.5 })).map((f) => f.file)).toEqual(["a.txt", "b.txt"]);
  });

  it("reports a changed or new input instead of judging it, and fails a broken round trip", () => {
    const now = hashed([
      ["a.txt", "a2", 900], // same name, other bytes: much bigger, but not a regression
      ["new.txt", "ee", 50],
      ["b.txt", "bb", 300, { roundTrip: false, roundTripError: "corrupt" }],
      ["c.txt", "cc", 400],
    ]);
    const c = compareReports(now, saved, { path: "saved.json" });
    expect(c.files.map((f) => `${f.file}:${f.status}`)).toEqual(["a.txt:changed", "new.txt:new", "b.txt:roundTripFailed", "c.txt:same"]);
    expect(c.files[0]).not.toHaveProperty("baselineBytes");
    expect(c.total).toEqual({ bytes: 400, baselineBytes: 400, deltaPct: 0 });
    expect(c.passed).toBe(false);
    expect(comparisonFailures(c)).toEqual([{ file: "b.txt", message: "round trip failed" }]);
    expect(compareReports(hashed([["a.txt", "a2", 900]]), saved, { path: "s" }).passed).toBe(true);
  });

  it("falls back on the size where the saved report has no hashes", () => {
    const old = report([file("a.txt", 1000, 200, 400)]);
    expect(compareReports(hashed([["a.txt", "aa", 250]]), old, { path: "s" }).files[0]?.status).toBe("regression");
    const edited = { ...file("a.txt", 999, 250, 400), sha256: "aa" };
    expect(compareReports(report([edited]), old, { path: "s" }).files[0]?.status).toBe("changed");
  });

  it("checks the saved report's shape and the --max-regression value", () => {
    expect(asSavedReport(JSON.parse(JSON.stringify(saved)), "s.json").files).toHaveLength(4);
    expect(() => asSavedReport([], "s.json")).toThrow(FileError);
    expect(() => asSavedReport({ tool: { name: "gzip" }, files: [] }, "s.json")).toThrow(/^s\.json: not an llmzip bench report \(no tool.name "llmzip"\)/);
    expect(() => asSavedReport({ tool: { name: "llmzip" }, files: [{ file: "a" }] }, "s.json")).toThrow(/files\[0\] lacks/);
    expect(parseMaxRegression("2.5")).toBe(2.5);
    expect(parseMaxRegression("0")).toBe(0);
    expect(parseMaxRegression("1%")).toBe(1);
    for (const bad of ["-1", "abc", "", "1e3", "Infinity"]) expect(() => parseMaxRegression(bad)).toThrow(UsageError);
  });

  it("shows the comparison in the table and the markdown", () => {
    const now = hashed([
      ["a.txt", "aa", 203],
      ["b.txt", "b2", 300],
    ]);
    now.comparison = compareReports(now, saved, { path: "saved.json" });
    const table = renderTable(now, { color: false });
    expect(table).toMatch(/vs saved/);
    expect(table).toMatch(/^a\.txt .*\+1\.50% REGRESSION$/m);
    expect(table).toMatch(/^b\.txt .*changed$/m);
    expect(table).toMatch(/against saved\.json \(2026-01-02\): REGRESSION above \+1% per file; .*not in this run: c\.txt, gone\.txt/);
    const md = renderMarkdown(now);
    expect(md).toMatch(/## Against the saved report/);
    expect(md).toContain("| a.txt | 203 | 200 | +1.50% | **+1.50% REGRESSION** |");
    expect(md).toContain("| b.txt | 300 | - | - | changed |");
    // Without a comparison, nothing of it shows.
    expect(renderTable(saved, { color: false })).not.toMatch(/vs saved/);
    expect(renderMarkdown(saved)).not.toMatch(/saved report/);
  });
});

describe("JUnit XML", () => {
  it("is valid JUnit with a testcase per file and check, failures carrying the numbers", async () => {
    const r = hashed([
      ["a.txt", "aa", 203],
      ["b & <b>.txt", "bb", 300, { roundTrip: false, roundTripError: 'checksum "mismatch" <here>' }],
      ["c.txt", "cc", 400, { modelBpb: null, overheadPct: null }],
    ]);
    r.checks = evaluateChecks(r, [parseCheck("overheadPct<=0.5"), parseCheck("beats=xz"), parseCheck("total.bpb<=1")]);
    r.comparison = compareReports(r, saved, { path: "saved.json" });
    const { counts, cases } = await checkJunit(renderJunit(r));
    // 4 file-scope suites (roundTrip, overheadPct, beats, comparison) × 3 files + 1 totals case.
    expect(counts).toEqual({ tests: 13, failures: 5, errors: 0, skipped: 1 });
    const failed = cases.filter((c) => c.outcome === "failure").map((c) => `${c.classname} ${c.name}: ${c.message}`);
    expect(failed).toEqual([
      'llmzip.bench.roundTrip b & <b>.txt: b & <b>.txt: checksum "mismatch" <here>',
      "llmzip.bench.beats=xz c.txt: c.txt: 400 bytes, xz 400",
      "llmzip.bench.total.bpb<=1 total: total: bpb 2.408",
      "llmzip.bench.baselineReport a.txt: archive grew +1.50% (200 -> 203 bytes; allowed +1%)",
      "llmzip.bench.baselineReport b & <b>.txt: round trip failed",
    ]);
    expect(cases.filter((c) => c.outcome === "skipped").map((c) => `${c.classname} ${c.name}`)).toEqual(["llmzip.bench.overheadPct<=0.5 c.txt"]);
  });

  it("gives a check's failures that name no file a case of their own", async () => {
    const r = saved;
    r.checks = evaluateChecks(r, [parseCheck("beats=zstd")]);
    const { counts, cases } = await checkJunit(renderJunit(r));
    expect(counts).toEqual({ tests: 9, failures: 1, errors: 0, skipped: 0 });
    expect(cases.find((c) => c.outcome === "failure")).toMatchObject({ name: "beats=zstd", message: "zstd did not run (zstd not on PATH)" });
  });

  it("the schema check rejects what a CI would reject", async () => {
    await expect(checkJunit("<testsuites><testsuite/></testsuites>")).rejects.toThrow(/fails the schema/);
    await expect(checkJunit("<testsuites>")).rejects.toThrow(/not well-formed/);
  });
});

describe("zpaq baseline", () => {
  const zpaq = findProgram("zpaq", process.env.PATH ?? "");

  it("is skipped, not failed, without zpaq on PATH", () => {
    const { run, skipped } = resolveBaselines(["gzip", "zpaq"], "/nonexistent");
    expect(run.map((b) => b.name)).toEqual(["gzip"]);
    expect(skipped).toEqual([{ name: "zpaq", label: "zpaq -m5", reason: "zpaq not on PATH" }]);
  });

  // .ci/run installs Debian's zpaq and sets LLMZIP_REQUIRE_ZPAQ, so CI cannot pass by skipping this.
  it.skipIf(!zpaq && !process.env.LLMZIP_REQUIRE_ZPAQ)("writes a real zpaq -m5 archive that zpaq extracts to the input", async () => {
    expect(zpaq, "zpaq is not on PATH").toBeDefined();
    const { run } = resolveBaselines(["zpaq"]);
    const data = Buffer.from(fs.readFileSync(new URL("../bench/fixtures/story.txt", import.meta.url)));
    const archive = await run[0]!.compress(data);
    expect(archive.length).toBeGreaterThan(0);
    expect(archive.length).toBeLessThan(data.length);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "a.zpaq"), archive);
    const x = spawnSync(zpaq!, ["extract", "a.zpaq", "-to", "out"], { cwd: dir });
    expect(x.status, x.stderr.toString()).toBe(0);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, "out", "in")), data)).toBe(0);
  });
});
