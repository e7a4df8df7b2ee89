/**
 * llmzip as a library: `import { compress, decompress } from "llmzip"`.
 * The CLI is a thin layer over these functions.
 */
export { compress, plainArchive, type CompressResult, type CompressStats } from "./codec/compress.js";
export { decompress, type DecompressResult } from "./codec/decompress.js";
export { inspectArchive, type ArchiveSummary } from "./codec/inspect.js";
export type { CompressOptions, DecompressOptions, Progress, AdapterSpec } from "./codec/options.js";
export { LlamaEngine, type EngineOptions, type GpuMode } from "./engine/engine.js";
export * from "./errors.js";
export { FORMAT_VERSION } from "./container/format.js";
export { runBench, computeTotals, type BenchOptions, type BenchProgress, type BenchHooks } from "./bench/run.js";
export { expandInputs, type BenchInput } from "./bench/inputs.js";
export { parseCheck, evaluateChecks, METRICS, type Check, type Metric } from "./bench/check.js";
export { BASELINE_NAMES, parseBaselineList, type BaselineName } from "./bench/baselines.js";
export { renderTable } from "./bench/table.js";
export { renderMarkdown, renderBpbTable, describeSetting } from "./bench/markdown.js";
export { renderChart } from "./bench/chart.js";
export type * from "./bench/report.js";
