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
