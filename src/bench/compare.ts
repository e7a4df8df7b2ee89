import { FileError, UsageError } from "../errors.js";
import { fmtDelta } from "./format.js";
import type { BenchReport, Comparison, FileComparison, FileResult } from "./report.js";

/** The growth `--max-regression` allows by default, in percent. */
export const DEFAULT_MAX_REGRESSION_PCT = 1;

/** Parses `--max-regression PCT`: a finite number ≥ 0 (a trailing % is allowed). */
export function parseMaxRegression(value: string): number {
  const v = value.trim().replace(/%$/, "");
  const n = Number(v);
  if (!/^\+?(\d+\.?\d*|\.\d+)$/.test(v) || !Number.isFinite(n)) throw new UsageError(`bad --max-regression '${value}': give a percentage ≥ 0, e.g. 1 or 0.5`);
  return n;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks that parsed JSON is a bench report with what a comparison reads
 * (files with names, sizes and archive sizes) and returns it typed. `source`
 * names it in the error.
 */
export function asSavedReport(json: unknown, source: string): BenchReport {
  const bad = (why: string) => new FileError(`${source}: not an llmzip bench report (${why}); save one with llmzip bench --json`);
  if (!isRecord(json)) throw bad("not a JSON object");
  if (!isRecord(json.tool) || json.tool.name !== "llmzip") throw bad("no tool.name \"llmzip\"");
  if (!Array.isArray(json.files)) throw bad("no files list");
  for (const [i, f] of json.files.entries()) {
    if (!isRecord(f) || typeof f.file !== "string" || typeof f.bytes !== "number" || !isRecord(f.llmzip) || typeof f.llmzip.bytes !== "number") {
      throw bad(`files[${i}] lacks file, bytes or llmzip.bytes`);
    }
    if (f.sha256 !== undefined && typeof f.sha256 !== "string") throw bad(`files[${i}].sha256 is not a string`);
  }
  return json as unknown as BenchReport;
}

/**
 * Whether two runs saw the same input. The hash decides where both reports
 * have one; reports of builds before hashes fall back on the size, which
 * still catches most edits.
 */
function sameInput(now: FileResult, then: FileResult): boolean {
  if (now.sha256 && then.sha256) return now.sha256 === then.sha256;
  return now.bytes === then.bytes;
}

const pct = (now: number, then: number): number => (then > 0 ? (now / then - 1) * 100 : now > 0 ? Infinity : 0);

/**
 * Compares this run with a saved one, file by file, matched by label and
 * content hash. A file whose archive grew by more than `maxRegressionPct`
 * percent, or whose round trip failed, fails the comparison; a changed or
 * new input is listed but not judged.
 */
export function compareReports(current: BenchReport, saved: BenchReport, opts: { path: string; maxRegressionPct?: number }): Comparison {
  const limit = opts.maxRegressionPct ?? DEFAULT_MAX_REGRESSION_PCT;
  const before = new Map(saved.files.map((f) => [f.file, f]));
  let bytes = 0;
  let baselineBytes = 0;
  const files: FileComparison[] = current.files.map((f) => {
    const then = before.get(f.file);
    const base = { file: f.file, bytes: f.llmzip.bytes };
    if (!f.llmzip.roundTrip) return { ...base, status: "roundTripFailed", ...(then && sameInput(f, then) ? { baselineBytes: then.llmzip.bytes } : {}) };
    if (!then) return { ...base, status: "new" };
    if (!sameInput(f, then)) return { ...base, status: "changed" };
    bytes += f.llmzip.bytes;
    baselineBytes += then.llmzip.bytes;
    const deltaPct = pct(f.llmzip.bytes, then.llmzip.bytes);
    const status = f.llmzip.bytes === then.llmzip.bytes ? "same" : f.llmzip.bytes < then.llmzip.bytes ? "smaller" : deltaPct > limit ? "regression" : "larger";
    return { ...base, status, baselineBytes: then.llmzip.bytes, deltaPct };
  });
  const seen = new Set(current.files.map((f) => f.file));
  return {
    report: { path: opts.path, date: typeof saved.date === "string" ? saved.date : "", version: saved.tool.version ?? "" },
    maxRegressionPct: limit,
    files,
    missing: saved.files.map((f) => f.file).filter((f) => !seen.has(f)),
    total: { bytes, baselineBytes, deltaPct: baselineBytes > 0 ? pct(bytes, baselineBytes) : null },
    passed: files.every((f) => f.status !== "regression" && f.status !== "roundTripFailed"),
  };
}

/**
 * One line per file that fails the comparison, naming the file and the
 * numbers: what the CLI prints to stderr and JUnit carries.
 */
export function comparisonFailures(c: Comparison): { file: string; message: string }[] {
  return c.files.flatMap((f) => {
    if (f.status === "regression") {
      return [{ file: f.file, message: `archive grew ${fmtDelta(f.deltaPct)} (${f.baselineBytes} -> ${f.bytes} bytes; allowed +${c.maxRegressionPct}%)` }];
    }
    if (f.status === "roundTripFailed") return [{ file: f.file, message: "round trip failed" }];
    return [];
  });
}

/** What a file's comparison says in a table cell. */
export function describeFileComparison(f: FileComparison): string {
  switch (f.status) {
    case "same":
      return "same";
    case "smaller":
    case "larger":
      return fmtDelta(f.deltaPct);
    case "regression":
      return `${fmtDelta(f.deltaPct)} REGRESSION`;
    case "roundTripFailed":
      return "round trip FAILED";
    case "changed":
      return "changed";
    case "new":
      return "new";
  }
}
