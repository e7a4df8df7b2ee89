/**
 * `bench --lossy --prune KEEP...`: every file pruned to each KEEP, coded,
 * decoded and compared with the kept text, and the information each archive
 * keeps about its original measured, beside the lossless archive.
 */
import { compress } from "../codec/compress.js";
import { decompress } from "../codec/decompress.js";
import { pickCodingChoices, type CodingChoices } from "../codec/options.js";
import { LlamaEngine } from "../engine/engine.js";
import { compressPruned, inputText } from "../lossy/compress.js";
import { measureCodedInformation, measureInformation } from "../lossy/information.js";
import { alignWords, DEFAULT_PRUNE_POLICY, scoreText, type PrunePolicy } from "../lossy/prune.js";
import { sameBytes } from "../util/bytes.js";
import { VERSION } from "../version.js";
import { loadInput, type BenchInput } from "./inputs.js";
import { describeMachine } from "./machine.js";
import type { MachineSummary, ModelSummary } from "./report.js";
import { summariseModel, type BenchProgress } from "./run.js";
import { sumOf } from "../util/sum.js";

/** One file pruned to one KEEP (or, in totals, the sums over files). */
export interface PruneRun {
  keep: number;
  archiveBytes: number;
  /** archiveBytes / the lossless archive's bytes. */
  ofLossless: number;
  keptBytes: number;
  /** Tokens of the original the kept words hold, of `tokens` scored. */
  keptTokens: number;
  /** -log2 p(original) − -log2 p(original | kept text), under the coding model (lossy/information.ts). */
  informationBits: number;
  /** informationBits / the original's bits alone. */
  informationShare: number;
  /** informationBits / archive bits. */
  informationPerArchiveBit: number;
  /** The original's coded bits alone − its coded bits after the kept text in the same stream (lossy/information.ts, measureCodedInformation). */
  codedInformationBits: number;
  /** codedInformationBits / the original's coded bits alone. */
  codedInformationShare: number;
  /** codedInformationBits / archive bits. */
  codedInformationPerArchiveBit: number;
  /** Surprisal of the kept tokens as the scoring pass read them in the original: the self-information the pruning kept. */
  selfInformationBits: number;
  selfInformationShare: number;
  selfInformationPerArchiveBit: number;
  /** Scoring pass plus coding pass, wall time. */
  compressSeconds: number;
  /** Decompressed to exactly the kept text, whose words are the original's in order. */
  roundTrip: boolean;
  roundTripError?: string;
}

export interface PruneFileResult {
  file: string;
  path?: string;
  bytes: number;
  /** Tokens the scoring pass read. */
  tokens: number;
  /** -log2 p(original) under the coding model, as the information measure reads it (pieces from fresh contexts). */
  bitsAlone: number;
  /** The original's bits as the coded information measure's coder spends them alone (one lane, the mixer on). */
  codedBitsAlone: number;
  /** The scoring pass's total surprisal (the same pieces as bitsAlone when the kept text fits beside them; otherwise smaller pieces). */
  scoredBits: number;
  lossless: { bytes: number; seconds: number };
  scoreSeconds: number;
  runs: PruneRun[];
}

export interface PruneBenchReport {
  tool: { name: "llmzip"; version: string };
  date: string;
  model: ModelSummary;
  settings: { keeps: number[]; policy: PrunePolicy; ctx: number | null; lanes: number | null };
  machine: MachineSummary;
  files: PruneFileResult[];
  /** Sums over files; shares and per-bit figures are ratios of sums. */
  totals: Omit<PruneFileResult, "file" | "path">;
  /** Every file's every KEEP round-tripped. */
  passed: boolean;
}

export interface PruneBenchOptions extends CodingChoices {
  model: string;
  engine?: LlamaEngine;
  /** Shares of tokens to keep, each 0 < keep < 1. */
  keeps: number[];
  policy?: PrunePolicy;
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
  onFile?: (result: PruneFileResult) => void;
  onWarning?: (message: string) => void;
  verbose?: boolean;
}

const ratio = (a: number, b: number): number => (b !== 0 ? a / b : 0);

type RunSums = Omit<PruneRun, "ofLossless" | "informationShare" | "informationPerArchiveBit" | "codedInformationShare" | "codedInformationPerArchiveBit" | "selfInformationShare" | "selfInformationPerArchiveBit">;

function finishRun(r: RunSums, lossless: number, bitsAlone: number, codedBitsAlone: number, scoredBits: number): PruneRun {
  return {
    ...r,
    ofLossless: ratio(r.archiveBytes, lossless),
    informationShare: ratio(r.informationBits, bitsAlone),
    informationPerArchiveBit: ratio(r.informationBits, r.archiveBytes * 8),
    codedInformationShare: ratio(r.codedInformationBits, codedBitsAlone),
    codedInformationPerArchiveBit: ratio(r.codedInformationBits, r.archiveBytes * 8),
    selfInformationShare: ratio(r.selfInformationBits, scoredBits),
    selfInformationPerArchiveBit: ratio(r.selfInformationBits, r.archiveBytes * 8),
  };
}

async function benchFile(data: Uint8Array, input: BenchInput, index: number, count: number, engine: LlamaEngine, opts: PruneBenchOptions): Promise<PruneFileResult> {
  const progress = (phase: BenchProgress["phase"], done: number, total: number) => opts.onProgress?.({ file: input.name, index, count, phase, done, total });
  inputText(data);
  const coding = { ...pickCodingChoices(opts), model: opts.model, engine, signal: opts.signal, onWarning: opts.onWarning };
  const t0 = performance.now();
  const lossless = await compress(data, { ...coding, onProgress: (p) => progress("encode", p.done, p.total) });
  const losslessSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const scores = await scoreText(data, { engine, ctx: opts.ctx, signal: opts.signal, onProgress: (done, total) => progress("score", done, total) });
  const scoreSeconds = (performance.now() - t1) / 1000;
  let bitsAlone = 0;
  const codedBitsAlone = (await measureCodedInformation(data, new Uint8Array(0), { engine, ctx: opts.ctx, signal: opts.signal })).bitsAlone;
  const runs: PruneRun[] = [];
  for (const keep of opts.keeps) {
    const t2 = performance.now();
    const r = await compressPruned(data, { ...coding, keep, policy: opts.policy, scores, onProgress: (p) => progress("encode", p.done, p.total) });
    const compressSeconds = scoreSeconds + (performance.now() - t2) / 1000;
    let roundTrip = false;
    let roundTripError: string | undefined;
    try {
      const back = await decompress(r.archive, { engine, signal: opts.signal, onProgress: (p) => progress("decode", p.done, p.total) });
      roundTrip = sameBytes(back.data, r.kept) && alignWords(back.data, data) !== undefined;
      if (!roundTrip) roundTripError = sameBytes(back.data, r.kept) ? "the kept words are not the original's in order" : "the output differs from the kept text";
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      roundTripError = (e as Error).message;
    }
    progress("information", 0, 1);
    const m = await measureInformation(data, r.kept, { engine, ctx: r.header.settings?.ctx ?? opts.ctx, lanes: opts.lanes, signal: opts.signal, align: alignWords(r.kept, data) });
    const coded = await measureCodedInformation(data, r.kept, { engine, ctx: opts.ctx, signal: opts.signal, bitsAlone: codedBitsAlone });
    progress("information", 1, 1);
    bitsAlone = m.bitsAlone;
    runs.push(
      finishRun(
        {
          keep,
          archiveBytes: r.archive.length,
          keptBytes: r.kept.length,
          keptTokens: r.lossy.keptTokens,
          informationBits: m.informationBits,
          codedInformationBits: coded.informationBits,
          selfInformationBits: r.lossy.keptBits,
          compressSeconds,
          roundTrip,
          ...(roundTripError === undefined ? {} : { roundTripError }),
        },
        lossless.archive.length,
        m.bitsAlone,
        codedBitsAlone,
        scores.bits,
      ),
    );
  }
  return {
    file: input.name,
    ...(input.path ? { path: input.path } : {}),
    bytes: data.length,
    tokens: scores.tokens.length,
    bitsAlone,
    codedBitsAlone,
    scoredBits: scores.bits,
    lossless: { bytes: lossless.archive.length, seconds: losslessSeconds },
    scoreSeconds,
    runs,
  };
}

/** Sums over files, per KEEP. */
export function pruneTotals(files: PruneFileResult[], keeps: number[]): PruneBenchReport["totals"] {
  const sum = (f: (r: PruneFileResult) => number) => sumOf(files, f);
  const lossless = sum((r) => r.lossless.bytes);
  const bitsAlone = sum((r) => r.bitsAlone);
  const codedBitsAlone = sum((r) => r.codedBitsAlone);
  const scoredBits = sum((r) => r.scoredBits);
  const runs = keeps.map((keep, k) => {
    const of = (f: (run: PruneRun) => number) => sum((r) => (r.runs[k] ? f(r.runs[k] as PruneRun) : 0));
    const failed = files.find((r) => !r.runs[k]?.roundTrip);
    return finishRun(
      {
        keep,
        archiveBytes: of((x) => x.archiveBytes),
        keptBytes: of((x) => x.keptBytes),
        keptTokens: of((x) => x.keptTokens),
        informationBits: of((x) => x.informationBits),
        codedInformationBits: of((x) => x.codedInformationBits),
        selfInformationBits: of((x) => x.selfInformationBits),
        compressSeconds: of((x) => x.compressSeconds),
        roundTrip: !failed,
        ...(failed ? { roundTripError: `${failed.file}: ${failed.runs[k]?.roundTripError ?? "no run"}` } : {}),
      },
      lossless,
      bitsAlone,
      codedBitsAlone,
      scoredBits,
    );
  });
  return {
    bytes: sum((r) => r.bytes),
    tokens: sum((r) => r.tokens),
    bitsAlone,
    codedBitsAlone,
    scoredBits,
    lossless: { bytes: lossless, seconds: sum((r) => r.lossless.seconds) },
    scoreSeconds: sum((r) => r.scoreSeconds),
    runs,
  };
}

/**
 * Prunes every input to every KEEP with the coding model, codes and decodes
 * the kept text, and measures what each archive keeps of the original,
 * beside the file's lossless archive. The model is loaded once for the run.
 */
export async function runPruneBench(inputs: BenchInput[], opts: PruneBenchOptions): Promise<PruneBenchReport> {
  const date = new Date().toISOString();
  const machine = describeMachine();
  const keeps = [...new Set(opts.keeps)].sort((a, b) => a - b);
  if (keeps.length === 0 || keeps.some((k) => !(k > 0 && k < 1))) throw new RangeError("keeps must be shares between 0 and 1 exclusive");
  const engine =
    opts.engine ?? LlamaEngine.open(opts.model, { gpu: opts.gpu ?? "auto", threads: opts.threads, verbose: opts.verbose, cpuKernels: opts.cpuKernels, onWarning: opts.onWarning });
  try {
    const model = await summariseModel(engine);
    const files: PruneFileResult[] = [];
    for (const [index, input] of inputs.entries()) {
      const result = await benchFile(loadInput(input), input, index, inputs.length, engine, { ...opts, keeps });
      files.push(result);
      opts.onFile?.(result);
    }
    const totals = pruneTotals(files, keeps);
    return {
      tool: { name: "llmzip", version: VERSION },
      date,
      model,
      settings: { keeps, policy: opts.policy ?? DEFAULT_PRUNE_POLICY, ctx: opts.ctx ?? null, lanes: opts.lanes ?? null },
      machine,
      files,
      totals,
      passed: totals.runs.every((r) => r.roundTrip),
    };
  } finally {
    if (!opts.engine) engine.close();
  }
}
