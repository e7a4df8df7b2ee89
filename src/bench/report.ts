/**
 * The data a benchmark run produces: what `llmzip bench --json` prints and
 * what the table, markdown and chart renderers read. Plain JSON values only.
 */

/** One classic compressor on one file. */
export interface BaselineResult {
  bytes: number;
  /** Compressed bits per original byte; null for an empty file. */
  bpb: number | null;
  /** Wall time of the compression (for external programs: process start included). */
  seconds: number;
}

/** llmzip on one file. Rates are null where nothing was measured (no model-coded chunk, zero time). */
export interface LlmzipResult {
  /** Archive size. */
  bytes: number;
  bpb: number | null;
  /** "model": some chunks were coded by the model; "plain": the whole file went to brotli or was stored. */
  method: "model" | "plain";
  /** Input bytes coded by the model. */
  modelBytes: number;
  /** Tokens coded by the model. */
  tokens: number;
  /** Sum of -log2 p(token) under the model's exact softmax, over the model-coded chunks. */
  modelBits: number | null;
  /** Length of the range-coded stream. */
  streamBytes: number;
  /** modelBits / modelBytes: the model's cross-entropy, the limit the coder can reach on those bytes. */
  modelBpb: number | null;
  /** (stream bits / modelBits − 1) × 100: what coding costs beyond the model's cross-entropy. */
  overheadPct: number | null;
  /** Most lanes of any lane run of the final pass (null when no chunk was model-coded). */
  lanes: number | null;
  /** Passes over the model: 1 when model-coded (format 1 archives took 2 when chunks went to brotli), 0 for a plain archive. */
  passes: number;
  /** Wall time of the whole compress call (planning, every pass, archive building). */
  compressSeconds: number;
  /** Wall time of the whole decompress call. */
  decompressSeconds: number;
  /** Wall time of the final pass's lane schedule evaluated again with coding skipped. */
  evalOnlySeconds: number | null;
  /** tokens / time of the final model pass (the pass whose stream is in the archive). */
  compressTokensPerSec: number | null;
  /** tokens / decompressSeconds. */
  decompressTokensPerSec: number | null;
  /** tokens / evalOnlySeconds: the model alone on the same schedule. */
  evalOnlyTokensPerSec: number | null;
  /** Original bytes / compressSeconds. */
  compressBytesPerSec: number | null;
  /** Original bytes / decompressSeconds. */
  decompressBytesPerSec: number | null;
  /** The archive decompressed to exactly the input. */
  roundTrip: boolean;
  /** Why the round trip failed, when it did. */
  roundTripError?: string;
  /**
   * With --lossy: the archive holds a rewrite, so the round trip compares
   * with the rewrite, and this says what the rewrite keeps of the original,
   * measured under the coding model. The other fields describe the coding of
   * the rewrite; bytes and bpb are the archive against the original.
   */
  lossy?: LossyResult;
}

/** What a lossy archive keeps: the coding model's bits of the original with and without the rewrite before it. */
export interface LossyResult {
  rewriter: string;
  rewriteBytes: number;
  rewriteTokens: number;
  sections: number;
  /** -log2 p(original) under the coding model. */
  bitsAlone: number;
  /** -log2 p(original | rewrite). */
  bitsGivenRewrite: number;
  /** bitsAlone - bitsGivenRewrite: the information the rewrite carries about the original. */
  informationBits: number;
  bitsPerRewriteToken: number;
  /** The archive's size in bits, beside the information it keeps. */
  compressedBits: number;
  informationPerCompressedBit: number;
}

export interface FileResult {
  /** Label: the path relative to the inputs' common folder. */
  file: string;
  /** Path as found on disk, when the input was a file. */
  path?: string;
  bytes: number;
  /** SHA-256 of the input (hex): a later run is compared with this one only where the bytes are the same. Absent in reports of older builds. */
  sha256?: string;
  llmzip: LlmzipResult;
  baselines: Record<string, BaselineResult>;
}

/** Sums over all files; ratios are ratios of sums (not means of per-file ratios). */
export interface Totals {
  files: number;
  bytes: number;
  llmzip: Omit<LlmzipResult, "method" | "lanes" | "passes" | "roundTripError" | "modelBits"> & {
    modelBits: number;
    /** Files whose round trip failed. */
    roundTripFailures: number;
  };
  baselines: Record<string, BaselineResult>;
}

export interface ModelSummary {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  architecture: string;
  parameters: number;
  vocabSize: number;
  contextLength: number;
  backend: string;
  cpuVariant: string;
  threads: number;
}

export interface MachineSummary {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started: throughput numbers on a busy machine are noisy. */
  loadAverage: number;
}

export interface CheckResult {
  /** The condition as the user wrote it (or "roundTrip" for the implicit one). */
  check: string;
  passed: boolean;
  /** One line per file (or total) that failed, e.g. `alice29.txt: bpb 2.611`. */
  failures: string[];
  /** Files the condition does not apply to (e.g. overheadPct of a file no chunk of which the model coded). */
  notApplicable: string[];
}

export interface BenchReport {
  tool: { name: "llmzip"; version: string };
  /** ISO 8601 time the run started. */
  date: string;
  model: ModelSummary;
  settings: {
    lanes: number | null;
    ctx: number | null;
    forceModel: boolean;
    /** Context mixing on (false with --no-mix; absent in reports of builds before it). */
    mix?: boolean;
    /** With --lossy: the rewriter's identity. */
    lossy?: { rewriter: string };
    /** Adapters mixed into every model-coded chunk. */
    adapters: { path: string; scale: number }[];
    /** With --adapter auto: the candidate sets, one chosen per chunk (the empty set is "no adapter"). */
    adapterCandidates: { path: string; scale: number }[][] | null;
  };
  machine: MachineSummary;
  baselines: {
    /** Names that ran, in column order, with the command line each stands for. */
    ran: { name: string; label: string }[];
    skipped: { name: string; label: string; reason: string }[];
  };
  files: FileResult[];
  totals: Totals;
  /** With --baseline-report: this run against a saved one, file by file. */
  comparison?: Comparison;
  /** Present once checks were evaluated (the implicit round-trip check is always among them). */
  checks?: CheckResult[];
  /** Every check passed (the implicit round trip included). */
  passed?: boolean;
}

/**
 * How a file fares against the saved report: `same`, `smaller` or `larger`
 * (within the allowed growth), `regression` (grew by more than allowed),
 * `roundTripFailed`, `changed` (same name, different bytes: not comparable),
 * `new` (not in the saved report).
 */
export type ComparisonStatus = "same" | "smaller" | "larger" | "regression" | "roundTripFailed" | "changed" | "new";

export interface FileComparison {
  file: string;
  status: ComparisonStatus;
  /** This run's archive size. */
  bytes: number;
  /** The saved run's archive size for the same input (absent for `new` and `changed`). */
  baselineBytes?: number;
  /** (bytes / baselineBytes − 1) × 100. */
  deltaPct?: number;
}

/** This run against a saved report (`--baseline-report`). */
export interface Comparison {
  /** The saved report's path as given, its date and llmzip version. */
  report: { path: string; date: string; version: string };
  /** Growth of a file's archive allowed before it counts as a regression, in percent. */
  maxRegressionPct: number;
  files: FileComparison[];
  /** Files of the saved report this run did not have. */
  missing: string[];
  /** Archive bytes of the files compared (same input in both runs), now and then. */
  total: { bytes: number; baselineBytes: number; deltaPct: number | null };
  passed: boolean;
}
