/**
 * llmzip as a library: `import { compress, decompress } from "llmzip"`.
 * The CLI is a thin layer over these functions; it owns files and stdio,
 * the library never touches them. More faces: "llmzip/models" (the store's
 * functions, the catalog, GGUF headers), "llmzip/bench" (benchmark runs and
 * reports), "llmzip/qa" (the question-asking protocol). docs/LIBRARY.md.
 */
export { compress, type CompressResult, type CompressStats, type StreamStats } from "./codec/compress.js";
export { decompress, type DecompressResult } from "./codec/decompress.js";
export { inspectArchive, type ArchiveSummary, type ChunkSummary } from "./codec/inspect.js";
export type { AdapterChoice, AdapterFile, AdapterSpec, CodingChoices, CompressOptions, DecompressOptions, LaneRun, Progress } from "./codec/options.js";
export { adapterDirsFromEnv, listAdapterFiles, ADAPTERS_ENV } from "./codec/adapter-files.js";
export { chooseAdapterSets, type AdapterTrial, type CandidateResult } from "./codec/adapter-choice.js";
export { FORMAT_VERSION, type ArchiveHeader, type ArchiveMode, type CodingSettings, type ModelRef } from "./container/format.js";
export { LlamaEngine, GPU_MODES, type EngineOptions, type GpuMode } from "./engine/engine.js";
export type { Backend } from "./engine/locate.js";
export { ModelStore } from "./models/model-store.js";
export type { StoreOptions, LocalModel } from "./models/store.js";
export type { ResolvedModel } from "./models/resolve.js";
export { compressLossy, compressPruned, type LossyCompressOptions, type LossyCompressResult, type PruneCompressOptions, type PruneCompressResult } from "./lossy/compress.js";
export { pruneText, scoreText, isWordSubsequence, PRUNE_POLICIES, DEFAULT_PRUNE_POLICY, type PrunePolicy, type PruneResult, type ScoredToken, type TextScores } from "./lossy/prune.js";
export { lossyInfo, type LossyInfo } from "./lossy/archive.js";
export { informationOfArchive, type ArchiveInformation } from "./lossy/evaluate.js";
export { measureCodedInformation, measureInformation, type CodedInformationReport, type InformationReport } from "./lossy/information.js";
export { openChatModel, type ChatModelSpec } from "./chat/open.js";
export type { ChatMessage, ChatModel, ChatReply, ChatRequest } from "./chat/types.js";
export * from "./errors.js";
