/**
 * llmzip as a library: `import { compress, decompress } from "llmzip"`.
 * The CLI is a thin layer over these functions.
 */
export { compress, plainArchive, type CompressResult, type CompressStats, type StreamStats } from "./codec/compress.js";
export { chooseAdapterSets, DEFAULT_TRIAL_TOKENS, type AdapterChoice, type AdapterTrial, type CandidateResult } from "./codec/adapter-choice.js";
export { ADAPTERS_ENV, adapterDirsFromEnv, listAdapterFiles, resolveAdapterSets, type AdapterFile } from "./codec/adapter-files.js";
export { decompress, type DecompressResult } from "./codec/decompress.js";
export { inspectArchive, type ArchiveSummary, type ChunkSummary } from "./codec/inspect.js";
export type { CompressOptions, DecompressOptions, Progress, AdapterSpec } from "./codec/options.js";
export { LlamaEngine, type EngineOptions, type GpuMode } from "./engine/engine.js";
export * from "./errors.js";
export { FORMAT_VERSION } from "./container/format.js";
export type { ChatMessage, ChatModel, ChatReply, ChatRequest } from "./chat/types.js";
export { openChatModel, type ChatModelSpec } from "./chat/open.js";
export { compressLossy, type LossyCompressOptions, type LossyCompressResult } from "./lossy/compress.js";
export { lossyInfo, type LossyInfo } from "./lossy/archive.js";
export { measureInformation, type InformationReport } from "./lossy/information.js";
export { informationOfArchive, withCompressedSize, type ArchiveInformation } from "./lossy/evaluate.js";
export { DEFAULT_REWRITE_PROMPT, type RewritePrompt } from "./lossy/prompt.js";
export { qaEncode, qaDecode, openSmallModel, type QaEncodeOptions, type QaEncodeResult, type QaStats, type ReplayableModel } from "./qa/codec.js";
export { benchQa, type QaBenchOptions, type QaBenchReport, type QaBenchRow } from "./qa/bench.js";
export { parseTasks, isCorrect, type QaTask, type CheckKind } from "./qa/tasks.js";
export { DEFAULT_QA_PROMPTS, promptsFromJson, type QaPrompts } from "./qa/prompts.js";
export { LocalChatModel } from "./chat/local.js";
export { resolveModel, resolveModelSpec, type ResolvedModel, type ResolveOptions } from "./models/resolve.js";
export { findModelByFingerprint, modelLocator, describeMissingModel, type FindOptions } from "./models/find.js";
export { pullModel, type PullOptions, type PullResult } from "./models/pull.js";
export { addModel, removeModel, type AddOptions, type RemoveResult } from "./models/register.js";
export { listModels, listCatalog, type ModelListing, type CatalogListing } from "./models/list.js";
export { readGgufInfo, type GgufInfo } from "./models/gguf.js";
export { CATALOG, type CatalogEntry } from "./models/catalog.js";
export { downloadFile, type DownloadOptions, type DownloadProgress } from "./models/download.js";
export type { StoreOptions, LocalModel } from "./models/store.js";
export { runBench, computeTotals, type BenchOptions, type BenchProgress, type BenchHooks } from "./bench/run.js";
export { expandInputs, type BenchInput } from "./bench/inputs.js";
export { parseCheck, evaluateChecks, METRICS, type Check, type Metric } from "./bench/check.js";
export { BASELINE_NAMES, parseBaselineList, type BaselineName } from "./bench/baselines.js";
export { renderTable } from "./bench/table.js";
export { renderMarkdown, renderBpbTable, describeSetting } from "./bench/markdown.js";
export { renderChart } from "./bench/chart.js";
export type * from "./bench/report.js";
