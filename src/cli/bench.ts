import path from "node:path";
import type { Command } from "commander";
import { parseBaselineList, type BaselineName } from "../bench/baselines.js";
import { renderChart } from "../bench/chart.js";
import fs from "node:fs";
import { asSavedReport, compareReports, comparisonFailures, DEFAULT_MAX_REGRESSION_PCT, parseMaxRegression } from "../bench/compare.js";
import { renderJunit } from "../bench/junit.js";
import { evaluateChecks, parseCheck, type Check } from "../bench/check.js";
import { fmtFixed } from "../bench/format.js";
import { expandInputs } from "../bench/inputs.js";
import { renderMarkdown } from "../bench/markdown.js";
import type { BenchReport, FileResult } from "../bench/report.js";
import { runBench, type BenchHooks } from "../bench/run.js";
import { renderTable } from "../bench/table.js";
import type { GpuMode } from "../engine/engine.js";
import { CancelledError, FileError, UsageError } from "../errors.js";
import { appendText, describeFsError, writeAtomic } from "../util/fs.js";
import { abortOnSignals } from "../util/signals.js";
import { makeReporter, reportError, type Reporter } from "./output.js";
import { addCodingOptions, codingChoices, type CodingFlags } from "./coding-options.js";
import { addEngineOptions } from "./options.js";
import { LiveLine } from "./live-line.js";
import type { ProgressStep } from "./progress-text.js";
import { addLossyOptions, openLossy, pruneSetup, type LossyFlags, type PruneSetup } from "./lossy.js";
import { runPruneBench, type PruneBenchReport } from "../bench/prune.js";
import { renderPruneChart, renderPruneTable } from "../bench/prune-report.js";
import { addQaBenchCommand } from "./qa.js";
import { ModelStore } from "../models/model-store.js";
import { modelForCompress } from "./resolve-model.js";

export interface BenchFlags extends CodingFlags, Omit<LossyFlags, "gpu" | "rm" | "threads" | "cpuKernels"> {
  model?: string;
  json?: boolean;
  markdown?: string;
  chart?: string;
  junit?: string;
  baselineReport?: string;
  maxRegression?: number;
  baselines?: BaselineName[];
  check?: Check[];
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

function collectCheck(value: string, previous: Check[] = []): Check[] {
  return [...previous, parseCheck(value)];
}

function fileLine(r: FileResult): string {
  const best = Object.entries(r.baselines).sort((a, b) => a[1].bytes - b[1].bytes)[0];
  const vs = best ? `, best baseline ${best[0]} ${fmtFixed(best[1].bpb, 3)}` : "";
  const kept = r.llmzip.lossy ? `, lossy: ${fmtFixed(r.llmzip.lossy.informationBits, 0)} bits of information kept` : "";
  return `${r.file}: llmzip ${fmtFixed(r.llmzip.bpb, 3)} bits/byte${vs}${kept}; round trip ${r.llmzip.roundTrip ? "ok" : `FAILED (${r.llmzip.roundTripError})`}`;
}

/** Reads and checks the saved report before the run, so that a bad path costs no benchmark time. */
function readSavedReport(file: string): BenchReport {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new FileError(`${file}: ${describeFsError(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileError(`${file}: not JSON (${(e as Error).message.split("\n")[0]}); save a report with llmzip bench --json`);
  }
  return asSavedReport(json, file);
}

/**
 * Writes the report files the flags ask for; the chart first, so that the
 * markdown can point at it. Under GitHub Actions (GITHUB_STEP_SUMMARY set) the
 * markdown is also appended to the job summary.
 */
function writeReports(report: BenchReport, flags: BenchFlags, rep: Reporter, env: NodeJS.ProcessEnv): void {
  if (flags.chart) {
    writeAtomic(flags.chart, Buffer.from(renderChart(report)), { force: true });
    rep.debug(`wrote ${flags.chart}`);
  }
  if (flags.markdown) {
    const chart = flags.chart ? path.relative(path.dirname(path.resolve(flags.markdown)), path.resolve(flags.chart)) : undefined;
    writeAtomic(flags.markdown, Buffer.from(renderMarkdown(report, { chart: chart?.split(path.sep).join("/") })), { force: true });
    rep.debug(`wrote ${flags.markdown}`);
  }
  if (flags.junit) {
    writeAtomic(flags.junit, Buffer.from(renderJunit(report)), { force: true });
    rep.debug(`wrote ${flags.junit}`);
  }
  const summary = env.GITHUB_STEP_SUMMARY;
  if (summary) {
    // The summary page shows no relative images, so the chart is left out there.
    appendText(summary, `${renderMarkdown(report)}\n`);
    rep.debug(`appended the markdown report to ${summary}`);
  }
}

/**
 * The bench command as a function: runs the benchmark, prints the table (or
 * JSON), writes the reports, evaluates the checks and returns the exit code.
 * `hooks` exists for tests only (see {@link BenchHooks}).
 */
export async function benchCommand(inputs: string[], flags: BenchFlags, hooks?: BenchHooks, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const prune = pruneSetup({ ...flags, gpu: flags.gpu ?? "auto" }, false);
  if (prune) return pruneBenchCommand(inputs, flags, prune);
  const rep = makeReporter(flags);
  if (flags.maxRegression !== undefined && !flags.baselineReport) throw new UsageError("--max-regression needs --baseline-report");
  const saved = flags.baselineReport ? readSavedReport(flags.baselineReport) : undefined;
  const store = new ModelStore();
  const checks = flags.check ?? [];
  const coding = codingChoices(flags);
  const model = modelForCompress(store, flags.model);
  const files = expandInputs(inputs);
  // Opened once for the run, like the coding model.
  const lossy = await openLossy({ ...flags, gpu: flags.gpu ?? "auto" });
  const signals = abortOnSignals();
  const bar = new FileProgress(rep);
  let report: BenchReport;
  try {
    report = await runBench(files, {
      model,
      ...coding,
      lossy,
      baselines: flags.baselines,
      signal: signals.signal,
      verbose: flags.verbose,
      hooks,
      onWarning: (m) => rep.warn(m),
      onProgress: (p) => {
        const unit = p.phase === "rewrite" ? "sections" : p.phase === "baselines" || p.phase === "information" ? "" : undefined;
        bar.show(p, unit === undefined ? p : { ...p, unit });
      },
      onFile: (r) => {
        bar.stop();
        if (process.stderr.isTTY || rep.verbose) rep.info(fileLine(r));
      },
    });
  } catch (e) {
    return interruptedStatus(e, signals.signal, rep);
  } finally {
    bar.stop();
    await lossy?.rewriter.close();
    signals.dispose();
  }

  report.checks = evaluateChecks(report, checks);
  if (saved && flags.baselineReport) {
    report.comparison = compareReports(report, saved, { path: flags.baselineReport, maxRegressionPct: flags.maxRegression ?? DEFAULT_MAX_REGRESSION_PCT });
  }
  report.passed = report.checks.every((c) => c.passed) && report.comparison?.passed !== false;
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderTable(report, { color: flags.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY) }));
  writeReports(report, flags, rep, env);
  for (const c of report.checks) {
    if (!c.passed) process.stderr.write(`llmzip: check failed: ${c.check}: ${c.failures.join("; ")}\n`);
  }
  // One line per file, so that a CI log names every file that got worse.
  if (report.comparison) {
    for (const f of comparisonFailures(report.comparison)) process.stderr.write(`llmzip: regression: ${f.file}: ${f.message}\n`);
  }
  return report.passed ? 0 : 1;
}

/** `bench --lossy --prune KEEP...`: its own report (no baselines or checks; the round trip is always checked). */
async function pruneBenchCommand(inputs: string[], flags: BenchFlags, prune: PruneSetup): Promise<number> {
  if (flags.check?.length) throw new UsageError("--check does not apply to --prune (its round trips are always checked)");
  if (flags.baselines !== undefined) throw new UsageError("--baselines does not apply to --prune (the reference is llmzip's lossless archive)");
  const rep = makeReporter(flags);
  const model = modelForCompress(new ModelStore(), flags.model);
  const files = expandInputs(inputs);
  const signals = abortOnSignals();
  const bar = new FileProgress(rep);
  let report: PruneBenchReport;
  try {
    report = await runPruneBench(files, {
      model,
      ...codingChoices(flags),
      keeps: prune.keeps,
      policy: prune.policy,
      signal: signals.signal,
      verbose: flags.verbose,
      onWarning: (m) => rep.warn(m),
      onProgress: (p) => {
        bar.show(p, p.phase === "information" ? { ...p, unit: "" } : p);
      },
      onFile: (r) => {
        bar.stop();
        const runs = r.runs.map((x) => `${x.keep}: ${fmtFixed(x.ofLossless, 2)}x lossless, ${fmtFixed(x.informationBits, 0)} bits kept${x.roundTrip ? "" : " (round trip FAILED)"}`);
        if (process.stderr.isTTY || rep.verbose) rep.info(`${r.file}: lossless ${r.lossless.bytes} bytes; ${runs.join("; ")}`);
      },
    });
  } catch (e) {
    return interruptedStatus(e, signals.signal, rep);
  } finally {
    bar.stop();
    signals.dispose();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderPruneTable(report));
  if (flags.chart) writeAtomic(flags.chart, Buffer.from(renderPruneChart(report)), { force: true });
  if (flags.markdown) {
    const chart = flags.chart ? `\n![information kept against archive size](${path.relative(path.dirname(path.resolve(flags.markdown)), path.resolve(flags.chart)).split(path.sep).join("/")})\n` : "";
    writeAtomic(flags.markdown, Buffer.from(`# llmzip bench --lossy --prune\n\n\`\`\`\n${renderPruneTable(report)}\`\`\`\n${chart}`), { force: true });
  }
  for (const r of report.totals.runs) if (!r.roundTrip) process.stderr.write(`llmzip: round trip failed at keep ${r.keep}: ${r.roundTripError}\n`);
  return report.passed ? 0 : 1;
}

export function register(program: Command): void {
  const cmd = program
    .command("bench")
    .description("compare llmzip with gzip, brotli, xz, zstd, bzip2 and zpaq on files, checking every round trip")
    .argument("<paths...>", "files and folders (folders are searched recursively)");
  addEngineOptions(cmd);
  addLossyOptions(addCodingOptions(cmd), { manyKeeps: true })
    .option("--baselines <list>", `compressors to compare: comma-separated from gzip,brotli,xz,zstd,bzip2,zpaq, or none (default: all found)`, parseBaselineList)
    .option("--check <expr>", "fail (exit 1) unless the condition holds; repeatable (see below)", collectCheck)
    .option("--json", "print one JSON document instead of the table")
    .option("--baseline-report <report.json>", "compare with a saved run (llmzip bench --json > report.json): fail when a file's archive grows")
    .option("--max-regression <pct>", `with --baseline-report: growth of a file's archive allowed, in percent (default: ${DEFAULT_MAX_REGRESSION_PCT})`, parseMaxRegression)
    .option("--markdown <file>", "also write a markdown report (also appended to $GITHUB_STEP_SUMMARY when set)")
    .option("--junit <file.xml>", "also write JUnit XML for CI: a testcase per file and check")
    .option("--chart <file.svg>", "also write a bar chart of bits per byte (SVG); with --prune, information kept against archive size")
    .option("--no-color", "no colors in the table")
    .option("-q, --quiet", "no progress or per-file lines")
    .option("-v, --verbose", "progress lines without a terminal, and stack traces on errors")
    .addHelpText(
      "after",
      `
Checks (--check, repeatable; the round trip is always checked):
  roundTrip              every file decompresses to exactly its bytes
  bpb<=2.5               every file's archive is at most 2.5 bits per byte
  total.bpb<=2.5         the same for the totals row only
  overheadPct<=0.1       coding overhead over the model's cross-entropy, in percent
  beats=xz               llmzip's archive is smaller than xz's on every file (beats=xz,zstd; beats=all)
  metrics: bytes, bpb, modelBpb, overheadPct, compressTokensPerSec, decompressTokensPerSec,
           evalOnlyTokensPerSec, compressBytesPerSec, decompressBytesPerSec; operators <= < >= > =
  A metric that is undefined for a file (no chunk coded by the model) is not checked there;
  a check that applies to no file fails.

Regression gate (--baseline-report saved.json): files are matched by name and
content hash; a file fails when its archive grew by more than --max-regression
percent or its round trip failed (exit 1, one line per file). A changed or new
input is listed, not judged.

Examples:
  llmzip bench -m model.gguf docs/
  llmzip bench -m model.gguf --json data/*.txt > bench.json
  llmzip bench -m model.gguf --markdown report.md --chart report.svg corpus/
  llmzip bench -m model.gguf --json corpus/ > saved.json    # later: --baseline-report saved.json --junit junit.xml
  llmzip bench -m model.gguf --baselines none --check roundTrip --check 'overheadPct<=0.5' a.txt
  llmzip bench -m model.gguf --lossy --rewriter instruct.gguf --json articles/   # information kept by the rewrites
  llmzip bench -m model.gguf --lossy --prune 0.3,0.5,0.7 --chart prune.svg articles/   # pruning, one line per KEEP`,
    )
    .action(async (paths: string[], flags: BenchFlags) => {
      try {
        process.exitCode = await benchCommand(paths, flags);
      } catch (e) {
        process.exitCode = reportError(e, Boolean(flags.verbose));
      }
    });
  // The question-asking benchmark; defined with the qa command.
  addQaBenchCommand(cmd, "qa");
}

/** A bench run that stopped: exit status 130 with one line when it was interrupted; anything else is rethrown. */
function interruptedStatus(e: unknown, signal: AbortSignal, rep: Reporter): number {
  if (signal.aborted || e instanceof CancelledError) {
    rep.info("llmzip: interrupted; no report was written");
    return 130;
  }
  throw e;
}

/** The live line of a bench run: one per input file, replaced when the next file starts. */
class FileProgress {
  private line: LiveLine | undefined;
  private file = "";

  constructor(private readonly rep: Reporter) {}

  show(at: { file: string; index: number; count: number }, step: ProgressStep): void {
    if (at.file !== this.file) {
      this.line?.stop();
      this.file = at.file;
      this.line = new LiveLine(`[${at.index + 1}/${at.count}] ${at.file}`, this.rep);
    }
    this.line?.progress(step);
  }

  stop(): void {
    this.line?.stop();
  }
}
