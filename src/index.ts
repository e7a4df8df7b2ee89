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
export { resolveModel, resolveModelSpec, type ResolvedModel, type ResolveOptions } from "./models/resolve.js";
export { findModelByFingerprint, modelLocator, describeMissingModel, type FindOptions } from "./models/find.js";
export { pullModel, type PullOptions, type PullResult } from "./models/pull.js";
export { addModel, removeModel, type AddOptions, type RemoveResult } from "./models/register.js";
export { listModels, listCatalog, type ModelListing, type CatalogListing } from "./models/list.js";
export { readGgufInfo, type GgufInfo } from "./models/gguf.js";
export { CATALOG, type CatalogEntry } from "./models/catalog.js";
export { downloadFile, type DownloadOptions, type DownloadProgress } from "./models/download.js";
export type { StoreOptions, LocalModel } from "./models/store.js";
