import type { BenchReport, FileResult, LlmzipResult } from "../../src/bench/report.js";
import { computeTotals } from "../../src/bench/run.js";

/** Synthetic bench results for tests of the renderers, checks and comparisons (no model). */
export function llm(bytes: number, original: number, extra: Partial<LlmzipResult> = {}): LlmzipResult {
  return {
    bytes,
    bpb: (bytes * 8) / original,
    method: "model",
    modelBytes: original,
    tokens: original / 2,
    modelBits: bytes * 8 * 0.99,
    streamBytes: bytes - 20,
    modelBpb: (bytes * 8 * 0.99) / original,
    overheadPct: 0.2,
    lanes: 4,
    passes: 1,
    compressSeconds: 1,
    decompressSeconds: 1,
    evalOnlySeconds: original / 4000,
    compressTokensPerSec: 1000,
    decompressTokensPerSec: 900,
    evalOnlyTokensPerSec: 2000,
    compressBytesPerSec: original,
    decompressBytesPerSec: original,
    roundTrip: true,
    ...extra,
  };
}

export function file(name: string, original: number, llmBytes: number, xz: number, extra: Partial<LlmzipResult> = {}): FileResult {
  return {
    file: name,
    bytes: original,
    llmzip: llm(llmBytes, original, extra),
    baselines: { gzip: { bytes: xz + 300, bpb: ((xz + 300) * 8) / original, seconds: 0.01 }, xz: { bytes: xz, bpb: (xz * 8) / original, seconds: 0.05 } },
  };
}

export function report(files: FileResult[]): BenchReport {
  return {
    tool: { name: "llmzip", version: "0.0.0" },
    date: "2026-01-02T03:04:05.000Z",
    model: { name: "tiny<&>", path: "/m.gguf", bytes: 10, sha256: "ab".repeat(32), architecture: "llama", parameters: 1, vocabSize: 512, contextLength: 512, backend: "cpu", cpuVariant: "zen4", threads: 1 },
    settings: { lanes: null, ctx: null, forceModel: false, adapters: [] },
    machine: { cpu: "cpu", cores: 2, memoryGiB: 1, os: "os", node: "v20", loadAverage: 0 },
    baselines: { ran: [{ name: "gzip", label: "gzip -9" }, { name: "xz", label: "xz -9e" }], skipped: [{ name: "zstd", label: "zstd --ultra -22", reason: "zstd not on PATH" }] },
    files,
    totals: computeTotals(files, ["gzip", "xz"]),
  };
}
