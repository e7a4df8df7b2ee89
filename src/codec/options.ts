import type { GpuMode } from "../engine/engine.js";
import type { LaneSettings, LlamaEngine } from "../engine/engine.js";
import type { ArchiveMode, ModelRef } from "../container/format.js";

/** Where a run is and how far it got, for progress bars. */
export interface Progress {
  phase: "analyse" | "trial" | "encode" | "decode" | "verify";
  /** Tokens (trial/encode/decode/verify) or bytes (analyse) done so far. */
  done: number;
  total: number;
}

/** A LoRA adapter and the scale it is applied with. */
export interface AdapterSpec {
  path: string;
  scale: number;
}

/** An adapter file given for decompression; a scale, when present, must match the archive's. */
export interface AdapterFile {
  path: string;
  scale?: number;
}

/** Choose, per chunk, among candidate adapter sets (see codec/adapter-choice.ts). */
export interface AdapterChoice {
  /** Candidate sets, in order of preference on ties; include `[]` to allow "no adapter". */
  candidates: AdapterSpec[][];
  /** Tokens at the start of each chunk that are trial-coded under every candidate (default 256). */
  trialTokens?: number;
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
  /** Lanes decoded in lockstep (default 8 on the CPU, 16 on a GPU: {@link defaultLanes}). */
  lanes?: number;
  /** Tokens of context per lane = most tokens per chunk (default min(model context, 2048)). */
  ctx?: number;
  gpu?: GpuMode;
  /** LoRA adapters applied (mixed, each with its scale) to every model-coded chunk. */
  adapters?: AdapterSpec[];
  /** Instead of fixed adapters: per chunk, the candidate set that codes it in the fewest bits. */
  adapterChoice?: AdapterChoice;
  /** llama.cpp CPU kernel set (see EngineOptions.cpuKernels); default portable AVX2 kernels. */
  cpuKernels?: string;
  /** Code every representable chunk with the model, even where brotli is smaller (for measurements). */
  forceModel?: boolean;
  /** Decode the archive again in the same run and compare before returning. */
  verify?: boolean;
  /**
   * Mix the model's predictions with adaptive context models learned from the
   * text itself (default true; false codes with the bare model, as `--no-mix`).
   */
  mix?: boolean;
  /**
   * The context-mixing configuration to code with when mixing (a known id
   * other than 0; default {@link DEFAULT_MIXER} in settings.ts). For
   * measurements and for archives that older llmzip versions must read.
   */
  mixer?: number;
  /**
   * Called once with the lane runs whose streams went into the archive (not
   * called when no chunk is model-coded), so that a caller can replay them,
   * e.g. `bench` timing them with coding skipped.
   */
  onSchedule?: (runs: LaneRun[]) => void;
  /** The archive's mode, for modes built on compress (lossy); default "lossless". */
  mode?: ArchiveMode;
  /** Header extensions such a mode records (written sorted by key; see docs/FORMAT.md). */
  meta?: Record<string, string>;
}

/** The choices that shape a model run, as compress takes them; commands and bench pass them on whole. */
export type CodingChoices = Pick<CompressOptions, (typeof CODING_CHOICES)[number]>;

const CODING_CHOICES = ["lanes", "ctx", "gpu", "threads", "cpuKernels", "adapters", "adapterChoice", "forceModel", "mix", "mixer"] as const;

/** The coding choices among a larger set of options (CLI flags, bench options), and nothing else. */
export function pickCodingChoices(from: CodingChoices): CodingChoices {
  const out: Record<string, unknown> = {};
  for (const k of CODING_CHOICES) if (from[k] !== undefined) out[k] = from[k];
  return out as CodingChoices;
}

/** One lane run of a compression: its exact settings and chunks, everything needed to evaluate it again. */
export interface LaneRun {
  settings: LaneSettings;
  chunks: Int32Array[];
}

export interface DecompressOptions extends CodecOptions {
  /** Path of the model the archive was coded with (checked by fingerprint). */
  model?: string;
  /**
   * Finds the model when `model` is not given, from the name, size and
   * sha256 the archive records; called only for archives that need a model.
   * `modelLocator()` from llmzip's models module searches registered and
   * downloaded models.
   */
  locateModel?: (ref: ModelRef) => Promise<string>;
  /**
   * Where the model may run. The archive fixes the backend (logits differ
   * between backends); a choice that contradicts it is an error.
   * Default "auto": whatever the archive needs.
   */
  gpu?: GpuMode;
  /** Adapter files the archive needs, matched by fingerprint; a scale given must equal the archive's. */
  adapters?: (string | AdapterFile)[];
  /** Folders searched (by fingerprint) for adapters not among `adapters`. */
  adaptersDirs?: string[];
}

