/** "llmzip/qa": the question-asking protocol (a small model asks, a large one answers, one bit each). */
export { qaEncode, qaDecode, openSmallModel, type QaEncodeOptions, type QaEncodeResult, type QaStats, type ReplayableModel } from "./codec.js";
export { benchQa, type QaBenchOptions, type QaBenchReport, type QaBenchRow } from "./bench.js";
export { parseTasks, isCorrect, type QaTask, type CheckKind } from "./tasks.js";
export { DEFAULT_QA_PROMPTS, promptsFromJson, type QaPrompts } from "./prompts.js";
