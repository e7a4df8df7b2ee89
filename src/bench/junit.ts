import { comparisonFailures, describeFileComparison } from "./compare.js";
import type { BenchReport, CheckResult } from "./report.js";

// XML 1.0 has no way to carry most control characters, even escaped.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Text for an XML attribute or element, escaped. */
function x(s: string): string {
  return s.replace(INVALID_XML, "\ufffd").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const secs = (s: number) => (Number.isFinite(s) && s > 0 ? s : 0).toFixed(3);

interface Case {
  name: string;
  classname: string;
  time: number;
  failure?: { message: string; type: string; detail: string };
  skipped?: string;
}

interface Suite {
  name: string;
  cases: Case[];
}

/**
 * The failures of a check that belong to `label`: failure lines read
 * `LABEL: numbers`; the longest matching label wins, so that `a` does not
 * claim the lines of `a: b`.
 */
function failuresOf(check: CheckResult, label: string, labels: string[]): string[] {
  return check.failures.filter((line) => {
    const owner = labels.filter((l) => line.startsWith(`${l}: `)).sort((a, b) => b.length - a.length)[0];
    return owner === label;
  });
}

function checkSuite(report: BenchReport, check: CheckResult): Suite {
  const fileTimes = new Map(report.files.map((f) => [f.file, f.llmzip.compressSeconds + f.llmzip.decompressSeconds]));
  // A totals check (total.bpb<=2) is one case; any other check is one case per file.
  const total = /^totals?\./i.test(check.check);
  const labels = total ? ["total"] : report.files.map((f) => f.file);
  const classname = `llmzip.bench.${check.check}`;
  const cases: Case[] = labels.map((label) => {
    const lines = failuresOf(check, label, labels);
    const time = total ? report.totals.llmzip.compressSeconds + report.totals.llmzip.decompressSeconds : (fileTimes.get(label) ?? 0);
    if (lines.length) return { name: label, classname, time, failure: { message: lines.join("; "), type: "check", detail: lines.join("\n") } };
    if (check.notApplicable.includes(label)) return { name: label, classname, time, skipped: `${check.check} is not measured for ${label} (no chunk coded by the model)` };
    return { name: label, classname, time };
  });
  // Failures that name no file (no baseline ran, nothing to measure) still fail the suite.
  const orphans = check.failures.filter((line) => !labels.some((l) => line.startsWith(`${l}: `)));
  if (orphans.length) cases.push({ name: check.check, classname, time: 0, failure: { message: orphans.join("; "), type: "check", detail: orphans.join("\n") } });
  return { name: `llmzip bench: ${check.check}`, cases };
}

function comparisonSuite(report: BenchReport): Suite | undefined {
  const c = report.comparison;
  if (!c) return undefined;
  const classname = "llmzip.bench.baselineReport";
  const failing = new Map(comparisonFailures(c).map((f) => [f.file, f.message]));
  const times = new Map(report.files.map((f) => [f.file, f.llmzip.compressSeconds]));
  const cases: Case[] = c.files.map((f) => {
    const time = times.get(f.file) ?? 0;
    const message = failing.get(f.file);
    if (message) return { name: f.file, classname, time, failure: { message, type: "regression", detail: `${f.file}: ${message}; saved report ${c.report.path} (${c.report.date})` } };
    if (f.status === "changed" || f.status === "new") return { name: f.file, classname, time, skipped: `${describeFileComparison(f)} input: not compared with ${c.report.path}` };
    return { name: f.file, classname, time };
  });
  return { name: `llmzip bench: against ${c.report.path} (max +${c.maxRegressionPct}%)`, cases };
}

/**
 * The run as JUnit XML, the format CI systems read test results in: a
 * testsuite per check (the round trip, each --check, the comparison with a
 * saved report) and in it a testcase per file, failed with the numbers.
 * Checks must have been evaluated (`report.checks`).
 */
export function renderJunit(report: BenchReport): string {
  const suites: Suite[] = (report.checks ?? []).map((c) => checkSuite(report, c));
  const cmp = comparisonSuite(report);
  if (cmp) suites.push(cmp);
  const count = (s: Suite[], f: (c: Case) => boolean) => s.reduce((n, suite) => n + suite.cases.filter(f).length, 0);
  const time = (cs: Case[]) => cs.reduce((n, c) => n + c.time, 0);
  const all = suites.flatMap((s) => s.cases);
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="llmzip bench" tests="${all.length}" failures="${count(suites, (c) => Boolean(c.failure))}" errors="0" skipped="${count(suites, (c) => c.skipped !== undefined)}" time="${secs(time(all))}">`,
  ];
  for (const [id, s] of suites.entries()) {
    out.push(
      `  <testsuite name="${x(s.name)}" id="${id}" package="llmzip.bench" tests="${s.cases.length}" failures="${count([s], (c) => Boolean(c.failure))}" errors="0" skipped="${count([s], (c) => c.skipped !== undefined)}" time="${secs(time(s.cases))}" timestamp="${x(report.date.replace(/\.\d+Z$|Z$/, ""))}" hostname="localhost">`,
      `    <properties>`,
      `      <property name="model" value="${x(report.model.name)}"/>`,
      `      <property name="model.sha256" value="${x(report.model.sha256)}"/>`,
      `      <property name="llmzip.version" value="${x(report.tool.version)}"/>`,
      `    </properties>`,
    );
    for (const c of s.cases) {
      const open = `    <testcase name="${x(c.name)}" classname="${x(c.classname)}" time="${secs(c.time)}"`;
      if (c.failure) out.push(`${open}>`, `      <failure message="${x(c.failure.message)}" type="${x(c.failure.type)}">${x(c.failure.detail)}</failure>`, `    </testcase>`);
      else if (c.skipped !== undefined) out.push(`${open}>`, `      <skipped message="${x(c.skipped)}"/>`, `    </testcase>`);
      else out.push(`${open}/>`);
    }
    out.push(`    <system-out/>`, `    <system-err/>`, `  </testsuite>`);
  }
  out.push(`</testsuites>`, "");
  return out.join("\n");
}
