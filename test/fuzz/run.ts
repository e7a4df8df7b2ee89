/**
 * The fuzz loop and its oracle. Every case must end in exactly one of two
 * ways: the exact original bytes, or a typed llmzip error with a one-line
 * message (what the CLI prints as `llmzip: ...` with exit code 1). Anything
 * else is a failure: a wrong output, an untyped exception (the CLI's
 * "internal error"), a case over its time bound (a hang), or memory beyond
 * the bound (an allocation sized by a length field).
 */
import { decompress } from "../../src/codec/decompress.js";
import { inspectArchive } from "../../src/codec/inspect.js";
import { FORMAT_VERSION } from "../../src/container/format.js";
import type { LlamaEngine } from "../../src/engine/engine.js";
import { CancelledError, LlmzipError } from "../../src/errors.js";
import { lossyInfo } from "../../src/lossy/archive.js";
import { forge } from "./forge.js";
import { mutate, pick, rng, type Mutant } from "./mutate.js";
import type { Seed } from "./seeds.js";

export interface FuzzOptions {
  cases: number;
  /** Run seed: case i uses rng(seed, i), so any case reproduces alone. */
  seed: number;
  engine: LlamaEngine;
  seeds: Seed[];
  /** Per-case time bound (ms); a case over it counts as a hang. */
  caseMs: number;
  /** Resident memory the process must stay under (bytes). */
  rssLimit: number;
  /** Called for every failure, e.g. to save the archive for replay. */
  onFailure?: (f: FuzzFailure, bytes: Uint8Array) => void;
}

export interface FuzzFailure {
  index: number;
  seed: string;
  kind: string;
  detail: string;
  problem: string;
}

export interface KindCount {
  cases: number;
  exact: number;
  rejected: number;
  failed: number;
}

export interface FuzzReport {
  cases: number;
  exact: number;
  rejected: number;
  failures: FuzzFailure[];
  /** By operator family (bytes/plain, bytes/forged, field/<name>, forged/<edit>). */
  byKind: Record<string, KindCount>;
  /** Rejections by error class. */
  byError: Record<string, number>;
  /** Cases by seed archive. */
  bySeed: Record<string, number>;
  /** Cases that reached the model (decoded tokens) before ending. */
  modelCases: number;
  slowestMs: number;
  peakRss: number;
  seconds: number;
}

/**
 * What a damaged or forged archive may be rejected as. The fuzzer never
 * changes the model file, so a ModelError (a failing model run) means the
 * decoder let a bad header through to the engine.
 */
const ARCHIVE_ERRORS = new Set(["CorruptArchiveError", "UnsupportedFormatError", "MismatchError"]);

/** Why an error would not be a clean CLI error for an archive problem, or undefined when it is one. */
function uncleanError(e: unknown): string | undefined {
  if (!(e instanceof LlmzipError)) return `untyped ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
  if (!ARCHIVE_ERRORS.has(e.name)) return `${e.name} instead of an archive error: ${e.message}`;
  if (e.exitCode !== 1) return `exit code ${e.exitCode}`;
  if (!e.message || /[\r\n]/.test(e.message)) return `message not one line: ${JSON.stringify(e.message)}`;
  return undefined;
}

/** Decides one case. Returns the outcome name ("exact" or the error class) or a failure. */
export async function judge(m: Mutant, seed: Seed, engine: LlamaEngine, caseMs: number): Promise<{ outcome: string; problem?: string; ms: number; model: boolean }> {
  const t0 = performance.now();
  // `llmzip info` reads the same bytes: it must fail as cleanly.
  try {
    inspectArchive(m.bytes, FORMAT_VERSION);
  } catch (e) {
    const why = uncleanError(e);
    if (why) return { outcome: "info", problem: `info: ${why}`, ms: performance.now() - t0, model: false };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), caseMs);
  let model = false;
  try {
    const back = await decompress(m.bytes, { engine, adapters: seed.adapters, signal: controller.signal, onProgress: () => (model = true) });
    // What the CLI also reads before it writes: a lossy label must be whole (a forged mode makes one that is not).
    lossyInfo(back.header);
    const ms = performance.now() - t0;
    if (Buffer.compare(Buffer.from(back.data), Buffer.from(seed.original)) !== 0) return { outcome: "wrong", problem: "decompressed to other bytes without an error", ms, model };
    return { outcome: "exact", ms, model };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof CancelledError && controller.signal.aborted) return { outcome: "hang", problem: `no result within ${caseMs} ms`, ms, model };
    const why = uncleanError(e);
    return why ? { outcome: "unclean", problem: why, ms, model } : { outcome: (e as Error).name, ms, model };
  } finally {
    clearTimeout(timer);
  }
}

/** Picks and builds case `index` of a run. */
export function makeCase(runSeed: number, index: number, seeds: Seed[]): { seed: Seed; mutant: Mutant } {
  const r = rng((Math.imul(runSeed, 0x9e3779b1) ^ index) >>> 0);
  const seed = pick(r, seeds);
  // A third are forgeries (most of which reach the model); some edits do not apply to every seed.
  let forged: Mutant | undefined;
  if (r() < 0.35) for (let k = 0; k < 4 && !forged; k++) forged = forge(r, seed.archive);
  return { seed, mutant: forged ?? mutate(r, seed.archive) };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const report: FuzzReport = { cases: 0, exact: 0, rejected: 0, failures: [], byKind: {}, byError: {}, bySeed: {}, modelCases: 0, slowestMs: 0, peakRss: 0, seconds: 0 };
  for (let i = 0; i < opts.cases; i++) {
    const { seed, mutant } = makeCase(opts.seed, i, opts.seeds);
    const res = await judge(mutant, seed, opts.engine, opts.caseMs);
    const kind = (report.byKind[mutant.kind] ??= { cases: 0, exact: 0, rejected: 0, failed: 0 });
    kind.cases++;
    report.cases++;
    report.bySeed[seed.name] = (report.bySeed[seed.name] ?? 0) + 1;
    if (res.model) report.modelCases++;
    report.slowestMs = Math.max(report.slowestMs, res.ms);
    const rss = process.memoryUsage.rss();
    report.peakRss = Math.max(report.peakRss, rss);
    let problem = res.problem;
    if (!problem && res.ms > opts.caseMs) problem = `took ${res.ms.toFixed(0)} ms`;
    if (!problem && rss > opts.rssLimit) problem = `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB over the limit`;
    if (problem) {
      kind.failed++;
      const f = { index: i, seed: seed.name, kind: mutant.kind, detail: mutant.detail, problem };
      report.failures.push(f);
      opts.onFailure?.(f, mutant.bytes);
    } else if (res.outcome === "exact") {
      kind.exact++;
      report.exact++;
    } else {
      kind.rejected++;
      report.rejected++;
      report.byError[res.outcome] = (report.byError[res.outcome] ?? 0) + 1;
    }
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

/** A human-readable summary: totals, then counts per operator family. */
export function formatReport(r: FuzzReport): string {
  const families = new Map<string, KindCount>();
  for (const [kind, c] of Object.entries(r.byKind)) {
    const fam = kind.startsWith("field/") ? "field rewrites (+crc mostly)" : kind;
    const f = families.get(fam) ?? { cases: 0, exact: 0, rejected: 0, failed: 0 };
    f.cases += c.cases;
    f.exact += c.exact;
    f.rejected += c.rejected;
    f.failed += c.failed;
    families.set(fam, f);
  }
  const lines = [
    `fuzz: ${r.cases} cases in ${r.seconds.toFixed(1)} s: ${r.exact} exact, ${r.rejected} clean errors, ${r.failures.length} failures; ${r.modelCases} reached the model; slowest ${r.slowestMs.toFixed(0)} ms; peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB`,
    `  errors: ${Object.entries(r.byError).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  seeds: ${Object.entries(r.bySeed).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    ...[...families.entries()].sort().map(([k, c]) => `  ${k.padEnd(32)} ${String(c.cases).padStart(6)} cases: ${c.exact} exact, ${c.rejected} rejected, ${c.failed} failed`),
  ];
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAIL #${f.index} ${f.seed} ${f.kind} (${f.detail}): ${f.problem}`);
  return lines.join("\n");
}
