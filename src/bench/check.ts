import { UsageError } from "../errors.js";
import { BASELINE_NAMES } from "./baselines.js";
import type { BenchReport, CheckResult, FileResult, LlmzipResult, Totals } from "./report.js";

/** llmzip's numbers a check can compare, by the name used in `--check` and in the JSON. */
export const METRICS = [
  "bytes",
  "bpb",
  "modelBpb",
  "overheadPct",
  "compressTokensPerSec",
  "decompressTokensPerSec",
  "evalOnlyTokensPerSec",
  "compressBytesPerSec",
  "decompressBytesPerSec",
] as const;
export type Metric = (typeof METRICS)[number];

type Op = "<=" | "<" | ">=" | ">" | "=";
/** `file`: every file must pass; `total`: the totals row must. */
export type CheckScope = "file" | "total";

/** A parsed `--check` condition. */
export type Check =
  | { kind: "roundTrip"; text: string }
  | { kind: "beats"; text: string; scope: CheckScope; baselines: string[] | "all" }
  | { kind: "metric"; text: string; scope: CheckScope; metric: Metric; op: Op; value: number };

const SYNTAX = /^(?:(file|files|total|totals)\.)?([A-Za-z]+)\s*(?:(<=|>=|==|=|<|>)\s*(.*))?$/i;

/**
 * Parses one condition: `roundTrip`, `beats=xz` (or `beats=xz,zstd`,
 * `beats=all`), or METRIC OP NUMBER such as `overheadPct<=0.1`, `bpb<2.5`.
 * A `total.` prefix checks the totals row instead of every file.
 */
export function parseCheck(text: string): Check {
  const src = text.trim();
  const m = SYNTAX.exec(src);
  const bad = (why: string) => new UsageError(`bad --check '${text}': ${why}`);
  if (!m) throw bad(`expected roundTrip, beats=NAME, or METRIC<=NUMBER (metrics: ${METRICS.join(", ")})`);
  const [, scopeWord, nameWord = "", opWord, valueWord] = m;
  const scope: CheckScope = scopeWord?.toLowerCase().startsWith("total") ? "total" : "file";
  const name = nameWord.toLowerCase();
  if (name === "roundtrip") {
    if (opWord) throw bad("roundTrip takes no comparison");
    return { kind: "roundTrip", text: src };
  }
  if (name === "beats") {
    if (opWord !== "=" && opWord !== "==") throw bad("write beats=NAME (a baseline, several separated by commas, or all)");
    const list = (valueWord ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (list.length === 0) throw bad("name a baseline");
    if (list.length === 1 && list[0] === "all") return { kind: "beats", text: src, scope, baselines: "all" };
    for (const b of list) if (!(BASELINE_NAMES as readonly string[]).includes(b)) throw bad(`unknown baseline '${b}' (choose from ${BASELINE_NAMES.join(", ")}, all)`);
    return { kind: "beats", text: src, scope, baselines: list };
  }
  const metric = METRICS.find((k) => k.toLowerCase() === name);
  if (!metric) throw bad(`unknown name '${nameWord}' (use roundTrip, beats, or one of ${METRICS.join(", ")})`);
  if (!opWord || !valueWord) throw bad(`compare ${metric} with a number, e.g. ${metric}<=2.5`);
  const value = Number(valueWord.trim());
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(valueWord.trim()) || !Number.isFinite(value)) throw bad(`'${valueWord}' is not a number`);
  return { kind: "metric", text: src, scope, metric, op: opWord === "==" ? "=" : (opWord as Op), value };
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case "<=":
      return a <= b;
    case "<":
      return a < b;
    case ">=":
      return a >= b;
    case ">":
      return a > b;
    case "=":
      return a === b;
  }
}

/** Enough digits to show why a comparison failed, without float noise. */
function show(v: number): string {
  return Math.abs(v) >= 1000 ? Math.round(v).toString() : Number(v.toPrecision(6)).toString();
}

type Row = { label: string; llmzip: LlmzipResult | Totals["llmzip"]; baselines: FileResult["baselines"] };

function rows(report: BenchReport, scope: CheckScope): Row[] {
  if (scope === "total") return [{ label: "total", llmzip: report.totals.llmzip, baselines: report.totals.baselines }];
  return report.files.map((f) => ({ label: f.file, llmzip: f.llmzip, baselines: f.baselines }));
}

function evaluate(report: BenchReport, check: Check): CheckResult {
  const failures: string[] = [];
  const notApplicable: string[] = [];
  if (check.kind === "roundTrip") {
    for (const f of report.files) if (!f.llmzip.roundTrip) failures.push(`${f.file}: ${f.llmzip.roundTripError ?? "round trip failed"}`);
  } else if (check.kind === "beats") {
    const ran = report.baselines.ran.map((b) => b.name);
    const wanted = check.baselines === "all" ? ran : check.baselines;
    if (wanted.length === 0) failures.push("no baseline ran");
    for (const b of wanted) {
      if (!ran.includes(b)) {
        const why = report.baselines.skipped.find((s) => s.name === b)?.reason ?? "not selected with --baselines";
        failures.push(`${b} did not run (${why})`);
        continue;
      }
      for (const r of rows(report, check.scope)) {
        const theirs = r.baselines[b]?.bytes;
        if (theirs !== undefined && !(r.llmzip.bytes < theirs)) failures.push(`${r.label}: ${r.llmzip.bytes} bytes, ${b} ${theirs}`);
      }
    }
  } else {
    let measured = 0;
    for (const r of rows(report, check.scope)) {
      const v = r.llmzip[check.metric];
      if (v === null || v === undefined) {
        notApplicable.push(r.label);
        continue;
      }
      measured++;
      if (!compare(v, check.op, check.value)) failures.push(`${r.label}: ${check.metric} ${show(v)}`);
    }
    // A condition nothing could be measured for must not pass silently in CI.
    if (measured === 0) failures.push(`nothing to measure (${check.metric} is undefined for ${check.scope === "total" ? "the totals" : "every file"}: no chunk was coded by the model; try --force-model)`);
  }
  return { check: check.text, passed: failures.length === 0, failures, notApplicable };
}

/**
 * Evaluates the checks against a report. The round trip is always checked,
 * whether or not it was asked for, and comes first.
 */
export function evaluateChecks(report: BenchReport, checks: Check[]): CheckResult[] {
  const all: Check[] = checks.some((c) => c.kind === "roundTrip") ? checks : [{ kind: "roundTrip", text: "roundTrip" }, ...checks];
  return all.map((c) => evaluate(report, c));
}
