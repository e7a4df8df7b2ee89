import { compress, type CompressResult } from "../codec/compress.js";
import { decompress } from "../codec/decompress.js";
import { pickCodingChoices, type CodingChoices, type CompressOptions, type LaneRun } from "../codec/options.js";
import { LlamaEngine } from "../engine/engine.js";
import type { ChatModel } from "../chat/types.js";
import { compressLossy } from "../lossy/compress.js";
import { withCompressedSize } from "../lossy/evaluate.js";
import { measureInformation } from "../lossy/information.js";
import type { RewritePrompt } from "../lossy/prompt.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { hex, sameBytes, sha256 } from "../util/bytes.js";
import { VERSION } from "../version.js";
import { BASELINE_NAMES, measureBaseline, resolveBaselines, type BaselineName } from "./baselines.js";
import { loadInput, type BenchInput } from "./inputs.js";
import { describeMachine } from "./machine.js";
import type { BaselineResult, BenchReport, FileResult, LlmzipResult, LossyResult, ModelSummary, Totals } from "./report.js";
import { sumOf } from "../util/sum.js";

/** Where a benchmark run is: the file, and the step within it. */
export interface BenchProgress {
  file: string;
  index: number;
  count: number;
  phase: "rewrite" | "score" | "analyse" | "trial" | "encode" | "decode" | "eval" | "information" | "baselines";
  done: number;
  total: number;
}

/**
 * Test seams: they let a test damage an archive or a decompressed output to
 * prove that the round-trip check catches it. Never used by the CLI.
 */
export interface BenchHooks {
  archive?: (archive: Uint8Array, file: string) => Uint8Array;
  output?: (output: Uint8Array, file: string) => Uint8Array;
}

/** Compress's coding choices (lanes, ctx, adapters, mixing...), applied to every file, and the run's own options. */
export interface BenchOptions extends CodingChoices {
  /** GGUF model path (ignored for loading when `engine` is given, but reported). */
  model: string;
  /** An engine already loaded with `model`; otherwise one is opened for the run and closed after. */
  engine?: LlamaEngine;
  /**
   * Lossy mode: every file is rewritten by `rewriter` and the rewrite coded;
   * the round trip compares with the rewrite, and the information the
   * rewrite keeps about the original is measured (see {@link LossyResult}).
   */
  lossy?: { rewriter: ChatModel; prompt?: RewritePrompt };
  /** Baselines to try (default: all); those whose program is missing are skipped and listed. */
  baselines?: readonly BaselineName[];
  /** Where external compressors are looked up (default $PATH). */
  searchPath?: string;
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
  /** Called as each file is done, before the next starts. */
  onFile?: (result: FileResult) => void;
  onWarning?: (message: string) => void;
  verbose?: boolean;
  hooks?: BenchHooks;
}

const rate = (amount: number, seconds: number | null): number | null => (amount > 0 && seconds && seconds > 0 ? amount / seconds : null);
const bitsPerByte = (bytes: number, of: number): number | null => (of > 0 ? (bytes * 8) / of : null);

/** The model as reports name it: file, fingerprint, shape and the backend it ran on. */
export async function summariseModel(engine: LlamaEngine): Promise<ModelSummary> {
  const fp = await fingerprintFile(engine.modelPath);
  const i = engine.info;
  return {
    name: i.name || engine.modelPath.split("/").pop() || engine.modelPath,
    path: engine.modelPath,
    bytes: fp.size,
    sha256: fp.sha256.toString("hex"),
    architecture: i.architecture,
    parameters: i.parameters,
    vocabSize: i.vocabSize,
    contextLength: i.contextLength,
    backend: i.backend,
    cpuVariant: i.cpuVariant,
    threads: i.threads,
  };
}

/** Every adapter file compress may use, for decompress to pick from by fingerprint. */
function adapterFiles(opts: BenchOptions): string[] {
  return [...new Set([...(opts.adapters ?? []), ...(opts.adapterChoice?.candidates.flat() ?? [])].map((a) => a.path))];
}

/** Compresses, decompresses and compares one file with llmzip, then replays its schedule without coding. */
async function benchLlmzip(data: Uint8Array, input: BenchInput, index: number, count: number, engine: LlamaEngine, opts: BenchOptions): Promise<LlmzipResult> {
  const progress = (phase: BenchProgress["phase"], done: number, total: number) => opts.onProgress?.({ file: input.name, index, count, phase, done, total });
  let schedule: LaneRun[] | undefined;
  const t0 = performance.now();
  const codingOptions: CompressOptions = {
    ...pickCodingChoices(opts),
    model: opts.model,
    engine,
    signal: opts.signal,
    onProgress: (p) => progress(p.phase === "analyse" || p.phase === "trial" ? p.phase : "encode", p.done, p.total),
    onWarning: opts.onWarning,
    onSchedule: (s) => {
      schedule = s;
    },
  };
  let rewritten: { rewrite: Uint8Array; rewriter: string; sections: number } | undefined;
  let coded: CompressResult;
  if (opts.lossy) {
    const r = await compressLossy(data, { ...codingOptions, ...opts.lossy, onSection: (done, total) => progress("rewrite", done, total) });
    rewritten = { rewrite: r.rewrite, rewriter: r.lossy.rewriter, sections: r.lossy.sections };
    coded = r;
  } else {
    coded = await compress(data, codingOptions);
  }
  const { archive, stats } = coded;
  // What decompression must give back: the input, or in lossy mode the rewrite.
  const expected = rewritten?.rewrite ?? data;
  const compressSeconds = (performance.now() - t0) / 1000;
  const stored = opts.hooks?.archive?.(archive, input.name) ?? archive;

  let roundTrip = false;
  let roundTripError: string | undefined;
  const t1 = performance.now();
  try {
    const back = await decompress(stored, {
      engine,
      // Matched by fingerprint: the archive names the ones it used, and their scales.
      adapters: adapterFiles(opts),
      signal: opts.signal,
      onProgress: (p) => progress("decode", p.done, p.total),
      onWarning: opts.onWarning,
    });
    const out = opts.hooks?.output?.(back.data, input.name) ?? back.data;
    roundTrip = sameBytes(out, expected);
    if (!roundTrip) roundTripError = rewritten ? "the output differs from the rewrite" : "the output differs from the input";
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    roundTripError = (e as Error).message;
  }
  const decompressSeconds = (performance.now() - t1) / 1000;

  let evalOnlySeconds: number | null = null;
  if (schedule) {
    const total = stats.lanes?.tokens ?? 0;
    let done = 0;
    evalOnlySeconds = 0;
    for (const run of schedule) {
      // Configuring is not timed: compress and decompress keep a context whose settings did not change.
      engine.configure(run.settings);
      const t2 = performance.now();
      const base = done;
      const r = await engine.encode(run.chunks, { skipCoding: true, signal: opts.signal, onProgress: (n) => progress("eval", base + n, total) });
      evalOnlySeconds += (performance.now() - t2) / 1000;
      done += r.stats.tokens;
    }
  }

  let lossy: LossyResult | undefined;
  if (rewritten) {
    progress("information", 0, 1);
    // With the archive's context size, as `info --original` measures it.
    const ctx = coded.header.settings?.ctx ?? opts.ctx;
    const m = withCompressedSize(await measureInformation(data, rewritten.rewrite, { engine, ctx, lanes: opts.lanes, signal: opts.signal }), archive.length);
    lossy = {
      rewriter: rewritten.rewriter,
      rewriteBytes: rewritten.rewrite.length,
      rewriteTokens: m.rewriteTokens,
      sections: rewritten.sections,
      bitsAlone: m.bitsAlone,
      bitsGivenRewrite: m.bitsGivenRewrite,
      informationBits: m.informationBits,
      bitsPerRewriteToken: m.bitsPerRewriteToken,
      compressedBits: m.compressedBits,
      informationPerCompressedBit: m.informationPerCompressedBit,
    };
    progress("information", 1, 1);
  }

  const lanes = stats.lanes;
  const tokens = lanes?.tokens ?? 0;
  const modelBits = lanes ? lanes.modelBits : null;
  return {
    bytes: archive.length,
    bpb: bitsPerByte(archive.length, data.length),
    method: stats.method,
    modelBytes: stats.modelBytes,
    tokens,
    modelBits,
    streamBytes: stats.streamBytes,
    modelBpb: modelBits !== null && stats.modelBytes > 0 ? modelBits / stats.modelBytes : null,
    overheadPct: modelBits ? ((stats.streamBytes * 8) / modelBits - 1) * 100 : null,
    lanes: schedule ? Math.max(...schedule.map((r) => r.settings.lanes)) : null,
    passes: stats.passes,
    compressSeconds,
    decompressSeconds,
    evalOnlySeconds,
    compressTokensPerSec: rate(tokens, stats.encodeSeconds),
    decompressTokensPerSec: rate(tokens, decompressSeconds),
    evalOnlyTokensPerSec: rate(tokens, evalOnlySeconds),
    compressBytesPerSec: rate(data.length, compressSeconds),
    decompressBytesPerSec: rate(data.length, decompressSeconds),
    roundTrip,
    ...(roundTripError === undefined ? {} : { roundTripError }),
    ...(lossy ? { lossy } : {}),
  };
}

/** Sums of the lossy measures when every file was coded lossy; per-token and per-bit ratios of the sums. */
function lossyTotals(results: LlmzipResult[]): LossyResult | undefined {
  const all = results.map((r) => r.lossy);
  if (!all.length || all.some((l) => !l)) return undefined;
  const ls = all as LossyResult[];
  const sum = (f: (l: LossyResult) => number) => sumOf(ls, f);
  const informationBits = sum((l) => l.informationBits);
  const rewriteTokens = sum((l) => l.rewriteTokens);
  const compressedBits = sum((l) => l.compressedBits);
  return {
    rewriter: ls[0]?.rewriter ?? "",
    rewriteBytes: sum((l) => l.rewriteBytes),
    rewriteTokens,
    sections: sum((l) => l.sections),
    bitsAlone: sum((l) => l.bitsAlone),
    bitsGivenRewrite: sum((l) => l.bitsGivenRewrite),
    informationBits,
    bitsPerRewriteToken: rewriteTokens ? informationBits / rewriteTokens : 0,
    compressedBits,
    informationPerCompressedBit: compressedBits ? informationBits / compressedBits : 0,
  };
}

/** Sums over files; every ratio is a ratio of sums. */
export function computeTotals(files: FileResult[], baselineNames: string[]): Totals {
  const sum = (f: (r: FileResult) => number) => sumOf(files, f);
  const coded = files.filter((r) => r.llmzip.tokens > 0);
  const sumCoded = (f: (r: LlmzipResult) => number) => sumOf(coded, (r) => f(r.llmzip));
  const bytes = sum((r) => r.bytes);
  const llmBytes = sum((r) => r.llmzip.bytes);
  const modelBytes = sum((r) => r.llmzip.modelBytes);
  const tokens = sumCoded((l) => l.tokens);
  const modelBits = sumCoded((l) => l.modelBits ?? 0);
  const streamBytes = sum((r) => r.llmzip.streamBytes);
  const compressSeconds = sum((r) => r.llmzip.compressSeconds);
  const decompressSeconds = sum((r) => r.llmzip.decompressSeconds);
  const evalOnlySeconds = coded.length ? sumCoded((l) => l.evalOnlySeconds ?? 0) : null;
  // Token rates over the model-coded files only: the others spent no model time.
  const encodeSeconds = sumCoded((l) => (l.compressTokensPerSec ? l.tokens / l.compressTokensPerSec : 0));
  const lossy = lossyTotals(files.map((r) => r.llmzip));
  const baselines: Record<string, BaselineResult> = {};
  for (const name of baselineNames) {
    const b = sum((r) => r.baselines[name]?.bytes ?? 0);
    baselines[name] = { bytes: b, bpb: bitsPerByte(b, bytes), seconds: sum((r) => r.baselines[name]?.seconds ?? 0) };
  }
  return {
    files: files.length,
    bytes,
    llmzip: {
      bytes: llmBytes,
      bpb: bitsPerByte(llmBytes, bytes),
      modelBytes,
      tokens,
      modelBits,
      streamBytes,
      modelBpb: modelBytes > 0 && coded.length ? modelBits / modelBytes : null,
      overheadPct: modelBits > 0 ? ((streamBytes * 8) / modelBits - 1) * 100 : null,
      compressSeconds,
      decompressSeconds,
      evalOnlySeconds,
      compressTokensPerSec: rate(tokens, encodeSeconds),
      decompressTokensPerSec: rate(tokens, sumCoded((l) => l.decompressSeconds)),
      evalOnlyTokensPerSec: rate(tokens, evalOnlySeconds),
      compressBytesPerSec: rate(bytes, compressSeconds),
      decompressBytesPerSec: rate(bytes, decompressSeconds),
      roundTrip: files.every((r) => r.llmzip.roundTrip),
      roundTripFailures: files.filter((r) => !r.llmzip.roundTrip).length,
      ...(lossy ? { lossy } : {}),
    },
    baselines,
  };
}

/**
 * Benchmarks llmzip against the classic compressors on each input: size,
 * bits per byte, the model's own cross-entropy, coding overhead, throughput
 * (with and without the coding step), and a byte-exact round trip. The model
 * is loaded once for the whole run.
 */
export async function runBench(inputs: BenchInput[], opts: BenchOptions): Promise<BenchReport> {
  const date = new Date().toISOString();
  const machine = describeMachine();
  const { run: baselines, skipped } = resolveBaselines(opts.baselines ?? BASELINE_NAMES, opts.searchPath);
  const engine =
    opts.engine ?? LlamaEngine.open(opts.model, { gpu: opts.gpu ?? "auto", threads: opts.threads, verbose: opts.verbose, cpuKernels: opts.cpuKernels, onWarning: opts.onWarning });
  try {
    // Fingerprinting a big model takes seconds the first time; keep that out of the first file's timings.
    const model = await summariseModel(engine);
    const files: FileResult[] = [];
    for (const [index, input] of inputs.entries()) {
      const data = loadInput(input);
      const llmzip = await benchLlmzip(data, input, index, inputs.length, engine, opts);
      opts.onProgress?.({ file: input.name, index, count: inputs.length, phase: "baselines", done: 0, total: baselines.length });
      const results: Record<string, BaselineResult> = {};
      for (const [k, b] of baselines.entries()) {
        results[b.name] = await measureBaseline(b, data);
        opts.onProgress?.({ file: input.name, index, count: inputs.length, phase: "baselines", done: k + 1, total: baselines.length });
      }
      const result: FileResult = { file: input.name, ...(input.path ? { path: input.path } : {}), bytes: data.length, sha256: hex(sha256(data)), llmzip, baselines: results };
      files.push(result);
      opts.onFile?.(result);
    }
    return {
      tool: { name: "llmzip", version: VERSION },
      date,
      model,
      settings: {
        lanes: opts.lanes ?? null,
        ctx: opts.ctx ?? null,
        forceModel: Boolean(opts.forceModel),
        mix: opts.mix !== false,
        ...(opts.lossy ? { lossy: { rewriter: opts.lossy.rewriter.identity } } : {}),
        adapters: opts.adapters ?? [],
        adapterCandidates: opts.adapterChoice?.candidates ?? null,
      },
      machine,
      baselines: { ran: baselines.map((b) => ({ name: b.name, label: b.label })), skipped },
      files,
      totals: computeTotals(files, baselines.map((b) => b.name)),
    };
  } finally {
    if (!opts.engine) engine.close();
  }
}
