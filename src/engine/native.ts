import { createRequire } from "node:module";
import { ModelError } from "../errors.js";
import { addonPath, backendLibDir, type Backend } from "./locate.js";

/** Statistics of one lane run, measured inside the native loop. */
export interface LaneRunStats {
  tokens: number;
  steps: number;
  /** Sum of -log2 p(token) under the model's exact softmax. */
  modelBits: number;
  /** Sum of -log2 (freq/2^31) under the coded integer tables: what the coder should spend. */
  tableBits: number;
  decodeSeconds: number;
  codingSeconds: number;
  /** tableBits of each chunk (zeros when coding was skipped). */
  chunkBits: Float64Array;
  /** modelBits of each chunk (zeros when coding was skipped). */
  chunkModelBits: Float64Array;
  /**
   * modelBits of each position of each chunk, context prefix included (0 there
   * and where coding was skipped): the per-token surprisal pruning ranks words by.
   * Absent from addons built before it.
   */
  tokenModelBits?: Float64Array[];
  /** Set when encoding stopped at a give-up checkpoint (the step count reached). */
  gaveUpAtStep?: number;
}

/** Span mode: lane i codes chunk i whole through a window of `window` KV cells, refeeding `carry` tokens at each new window. */
export interface SpanWindow {
  window: number;
  carry: number;
}

/** Encoding stops when the coded bits exceed `maxBits` once `step` steps are done. */
export interface GiveUpCheckpoint {
  step: number;
  maxBits: number;
}

export interface NativeModelInfo {
  description: string;
  name: string;
  architecture: string;
  vocabSize: number;
  contextLength: number;
  parameters: number;
  bos: number;
  eos: number;
  hasEncoder: boolean;
  recurrent: boolean;
}

export interface NativeLaneConfig {
  lanes: number;
  ctx: number;
  threads: number;
  flashAttention: boolean;
  kvType: string;
  adapters: { path: string; scale: number }[];
  /** The most rows one step may hold (span mode refeeds carry + 1 tokens per lane at once); default lanes. */
  batchRows?: number;
}

export interface NativeEngine {
  info(): NativeModelInfo;
  tokenize(bytes: Uint8Array): Int32Array;
  detokenize(tokens: Int32Array): Buffer;
  configure(config: NativeLaneConfig): void;
  /**
   * `prefixLengths[i]` leading tokens of chunk i are context: evaluated, not coded. `mixer`: 0 = off, else a configuration id.
   * `scoreRows`: score only (no stream), each chunk from a fresh context in batches of up to this many positions (at most the configured batchRows).
   * `bareToo` (with a mixer): also the bare model's stream from the same pass, as `bareStream`.
   */
  encode(
    chunks: Int32Array[],
    opts: { startToken: number; skipCoding?: boolean; prefixLengths?: number[]; mixer?: number; bareToo?: boolean; span?: SpanWindow; giveUp?: GiveUpCheckpoint[]; scoreRows?: number },
  ): Promise<{ stream: Buffer; bareStream?: Buffer; stats: LaneRunStats }>;
  /** `prefixes[i]` is chunk i's context; the returned chunks hold only the decoded tokens. */
  decode(stream: Uint8Array, lengths: number[], opts: { startToken: number; prefixes?: Int32Array[]; mixer?: number; span?: SpanWindow }): Promise<{ chunks: Int32Array[]; stats: LaneRunStats }>;
  progress(): number;
  cancel(): void;
  close(): void;
}

export interface RowCodingOptions {
  /** Context-mixing configuration id; 0 or absent = the bare model's tables. */
  mixer?: number;
  lanes?: number;
  /** Tokens per chunk; they add up to the token count. */
  chunkLengths?: number[];
  /** Span mode (one chunk per lane); the rows need no refeed, so only the schedule changes. */
  span?: SpanWindow;
  /** Per token id, the class bits of its text for the mixer's structure contexts (absent: class 0 for all). */
  tokenClasses?: Uint8Array;
  /** Give-up checkpoints, as for the engine's encode. */
  giveUp?: GiveUpCheckpoint[];
  /** With a mixer: also the bare model's stream, as the engine's encode. */
  bareToo?: boolean;
}

export interface NativeAddon {
  /** Loads llama.cpp's backends from `dir`; `cpuVariant` pins the ggml CPU kernels (else the best for this CPU). */
  loadBackends(dir: string, logToStderr?: boolean, cpuVariant?: string): { cpuVariant: string; devices: { name: string; description: string; type: number }[] };
  Engine: new (opts: { modelPath: string; gpuLayers?: number }) => NativeEngine;
  /**
   * Model-free coding through the same lane loop as the engine: one logit row
   * per token of every chunk (chunks in order). Default: one chunk, one lane, no mixing.
   */
  codeWithLogits(rows: Float32Array, vocab: number, tokens: Int32Array, opts?: RowCodingOptions): { stream: Buffer; bareStream?: Buffer; modelBits: number; stats: LaneRunStats };
  decodeWithLogits(stream: Uint8Array, rows: Float32Array, vocab: number, opts?: RowCodingOptions): Int32Array;
  frequencyTable(logits: Float32Array): Uint32Array;
}

const require = createRequire(import.meta.url);
const loaded = new Map<Backend, NativeAddon>();

/**
 * Loads llmzip's addon for a backend. One process can use one backend: the
 * llama.cpp libraries of different backends must not be mixed.
 */
export function loadAddon(backend: Backend): NativeAddon {
  const hit = loaded.get(backend);
  if (hit) return hit;
  if (loaded.size > 0) throw new ModelError(`cannot switch to the ${backend} backend in a process that already uses ${[...loaded.keys()][0]}`);
  const file = addonPath(backend);
  if (!file) {
    throw new ModelError(
      backend === "cpu"
        ? "the native engine is not built; run `npm run build:native` in the llmzip folder"
        : `the ${backend} engine is not built (is @node-llama-cpp/linux-x64-${backend} installed?); run \`npm run build:native\``,
    );
  }
  const addon = require(file) as NativeAddon;
  loaded.set(backend, addon);
  return addon;
}

/** The addon for the CPU backend with its libraries' backends loaded: enough for model-free coder tests. */
export function cpuAddon(): NativeAddon {
  const addon = loadAddon("cpu");
  const dir = backendLibDir("cpu");
  if (!dir) throw new ModelError("node-llama-cpp's CPU libraries are missing; run npm ci");
  addon.loadBackends(dir);
  return addon;
}
