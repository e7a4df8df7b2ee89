import type { GpuMode } from "../engine/engine.js";
import type { LlamaEngine } from "../engine/engine.js";

/** Where a run is and how far it got, for progress bars. */
export interface Progress {
  phase: "analyse" | "encode" | "decode" | "verify";
  /** Tokens (encode/decode/verify) or bytes (analyse) done so far. */
  done: number;
  total: number;
}

/** A LoRA adapter and the scale it is applied with. */
export interface AdapterSpec {
  path: string;
  scale: number;
}

/** Options shared by compress and decompress. */
export interface CodecOptions {
  /** llama.cpp threads (performance only; output does not depend on it). */
  threads?: number;
  /** Stop early; the promise rejects with CancelledError. */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Non-fatal notes for the user (e.g. a different CPU variant). */
  onWarning?: (message: string) => void;
  /** Show llama.cpp's log. */
  verbose?: boolean;
  /** Reuse an already loaded engine (its model must be the one named). */
  engine?: LlamaEngine;
}

export interface CompressOptions extends CodecOptions {
  /** Path of the GGUF model that predicts the text. */
  model: string;
  /** Lanes decoded in lockstep (default 16). */
  lanes?: number;
  /** Tokens of context per lane = most tokens per chunk (default min(model context, 2048)). */
  ctx?: number;
  gpu?: GpuMode;
  adapters?: AdapterSpec[];
  /** Code every representable chunk with the model, even where brotli is smaller (for measurements). */
  forceModel?: boolean;
  /** Decode the archive again in the same run and compare before returning. */
  verify?: boolean;
}

export interface DecompressOptions extends CodecOptions {
  /** Path of the model; required when the archive was coded with one. */
  model?: string;
  /** Adapter files the archive needs, matched by fingerprint. */
  adapters?: string[];
}

export const DEFAULT_LANES = 16;
export const DEFAULT_MAX_CTX = 2048;
/** Most lanes compress accepts; a header asking for more is not one llmzip wrote. */
export const MAX_LANES = 256;
/** Fewest tokens of context per lane the engine runs with. */
export const MIN_CTX = 2;

/**
 * Largest context per lane for a model trained on `modelContext` tokens: its
 * own context, and never less than the default. The decoder holds archives to
 * the same limit, so a forged header cannot make it allocate a KV cache the
 * compressor would have refused.
 */
export function maxContext(modelContext: number): number {
  return Math.max(modelContext, DEFAULT_MAX_CTX);
}
