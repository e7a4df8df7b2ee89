import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CancelledError, CorruptArchiveError, ModelError, UsageError } from "../errors.js";
import { backendLibDir, type Backend } from "./locate.js";
import { loadAddon, type GiveUpCheckpoint, type LaneRunStats, type NativeAddon, type NativeEngine, type NativeLaneConfig, type NativeModelInfo, type SpanWindow } from "./native.js";

/** What the user may ask for with --gpu. */
export const GPU_MODES = ["auto", "off", "cuda", "vulkan", "metal"] as const;
export type GpuMode = (typeof GPU_MODES)[number];

export interface EngineOptions {
  gpu?: GpuMode;
  /** llama.cpp threads; a performance setting only (never changes output). */
  threads?: number;
  /** Reserved for detail messages; llama.cpp's own log goes to stderr with LLMZIP_LLAMA_LOG=1. */
  verbose?: boolean;
  /**
   * llama.cpp's CPU kernel set: a name ("haswell", "zen4", "skylakex",
   * "x64", ...), or "auto" for the fastest this CPU runs. Logits differ
   * between kernel sets, so an archive decodes only with the set it was made
   * with, on a CPU that can run it. Default: {@link PORTABLE_CPU_KERNELS}.
   */
  cpuKernels?: string;
  /** Non-fatal notes, such as falling back from the portable kernels. */
  onWarning?: (message: string) => void;
}

/**
 * The CPU kernels used unless asked otherwise: AVX2 ("haswell"), which nearly
 * every x86-64 CPU made since 2013 runs, so that archives decode on other
 * machines. "auto" (e.g. zen4's AVX-512 kernels) is faster by ~20% on this
 * project's machines, but its archives need a CPU with the same features.
 */
export const PORTABLE_CPU_KERNELS = "haswell";

/** Settings of one lane context. All but threads change logits and go into archives. */
export interface LaneSettings {
  lanes: number;
  ctx: number;
  flashAttention: boolean;
  kvType: string;
  adapters: { path: string; scale: number }[];
  /**
   * Span mode, when set: each lane codes one long span through its window of
   * `ctx` cells, refeeding this many tokens whenever it starts a new window.
   * Unset: chunk mode (chunks of at most `ctx` tokens, handed to idle lanes).
   */
  carry?: number;
  /** Most rows one batch may hold (chunk mode; default lanes): scoring evaluates a whole chunk per batch. */
  batchRows?: number;
}

export interface EngineInfo extends NativeModelInfo {
  backend: Backend;
  cpuVariant: string;
  /** Token fed at position 0 of every chunk: BOS, else EOS, else 0. */
  startToken: number;
  threads: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called about ten times a second with the number of tokens processed so far. */
  onProgress?: (tokens: number) => void;
}

/** Below this size a model's matrices are too small to split: thread hand-offs cost more than they save. */
const SINGLE_THREAD_PARAMS = 4_000_000;

function concatTokens(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** llama.cpp's adapter errors name the check that failed; say what it means for the user. */
function explainConfigureError(message: string): string {
  const m = /^cannot load adapter (.*?): .*(?:expect general\.type to be 'adapter'|expect adapter\.type to be 'lora')/.exec(message);
  if (m) return `${m[1]} is not a LoRA adapter (a GGUF model or another kind of adapter?)`;
  const shape = /^cannot load adapter (.*?): .*(?:maybe wrong base model|arch mismatch)/.exec(message);
  if (shape) return `${shape[1]} is a LoRA adapter for another model (${message.replace(/^cannot load adapter .*?: /, "")})`;
  return message;
}

/**
 * Threads when the user sets none: one per core that is not already busy
 * (ggml's threads spin at barriers, so two threads on a 2-core machine with
 * another job running are many times slower than one), and one for tiny
 * models, where it is several times faster anyway (stories260K: ~8,000 tok/s
 * on one thread, ~1,800 on two, on an idle 2-core machine).
 */
export function defaultThreads(parameters: number, cores = os.availableParallelism(), load = os.loadavg()[0] ?? 0): number {
  if (parameters < SINGLE_THREAD_PARAMS) return 1;
  return Math.max(1, Math.min(cores, Math.round(cores - load + 0.5)));
}

function hasNvidiaDriver(): boolean {
  return fs.existsSync("/proc/driver/nvidia/version");
}

/** Maps --gpu to a backend. `auto` takes CUDA only when a driver and the CUDA engine are present. */
export function chooseBackend(gpu: GpuMode): Backend {
  switch (gpu) {
    case "off":
      return "cpu";
    case "metal":
      throw new UsageError("--gpu metal needs macOS; this llmzip build runs on Linux (use --gpu off, cuda or vulkan)");
    case "cuda":
    case "vulkan":
      return gpu;
    case "auto":
      return hasNvidiaDriver() && backendLibDir("cuda") ? "cuda" : "cpu";
  }
}

/** Set when the portable kernels could not run here and the process fell back to the best ones. */
let fellBackFromPortable = false;

/**
 * Loads llama.cpp's backends for this process with the chosen CPU kernels,
 * once. Everything that runs llama.cpp in the process must come through
 * here first, node-llama-cpp's chat models included: a library that loads
 * its own (faster) kernels first would silently change the coding engine's
 * logits away from the kernels its archives record.
 */
export function loadLlamaBackends(backend: Backend, opts: Pick<EngineOptions, "cpuKernels" | "onWarning"> = {}): { addon: NativeAddon; loaded: ReturnType<NativeAddon["loadBackends"]> } {
  const libDir = backendLibDir(backend);
  if (!libDir) throw new ModelError(`the ${backend} backend is not installed (node-llama-cpp's @node-llama-cpp/linux-x64${backend === "cpu" ? "" : `-${backend}`} package)`);
  const addon = loadAddon(backend);
  const log = process.env.LLMZIP_LLAMA_LOG === "1";
  const kernels = opts.cpuKernels ?? PORTABLE_CPU_KERNELS;
  if (fellBackFromPortable && opts.cpuKernels === undefined) return { addon, loaded: addon.loadBackends(libDir, log) };
  try {
    return { addon, loaded: addon.loadBackends(libDir, log, kernels === "auto" ? undefined : kernels) };
  } catch (e) {
    const why = (e as Error).message;
    // An old CPU without AVX2 still compresses, with archives for CPUs like it.
    if (opts.cpuKernels !== undefined || !/cannot run/.test(why)) throw new ModelError(why);
    opts.onWarning?.(`${why}; using the best kernels this CPU runs, so the archive needs a CPU like this one`);
    fellBackFromPortable = true;
    return { addon, loaded: addon.loadBackends(libDir, log) };
  }
}

/**
 * A loaded model and its lane context: the only door to the native engine.
 * One engine runs one lane job at a time.
 */
export class LlamaEngine {
  readonly info: EngineInfo;
  readonly modelPath: string;
  private native: NativeEngine;
  private configured: string | undefined;
  private span: SpanWindow | undefined;
  private readonly threads: number;

  private constructor(native: NativeEngine, modelPath: string, info: EngineInfo, threads: number) {
    this.native = native;
    this.modelPath = modelPath;
    this.info = info;
    this.threads = threads;
  }

  /** Loads a GGUF model on the chosen backend. */
  static open(modelPath: string, opts: EngineOptions = {}): LlamaEngine {
    const backend = chooseBackend(opts.gpu ?? "off");
    return LlamaEngine.openOn(modelPath, backend, opts);
  }

  /** Loads a GGUF model on an explicit backend (the decoder uses the archive's). */
  static openOn(modelPath: string, backend: Backend, opts: EngineOptions = {}): LlamaEngine {
    const asked = opts.threads;
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1 || asked > 1024)) throw new UsageError(`--threads must be a whole number from 1 to 1024 (got ${asked})`);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(modelPath);
    } catch {
      throw new ModelError(`model file not found: ${modelPath}`);
    }
    if (!stat.isFile()) throw new ModelError(`model path is not a file: ${modelPath}`);
    const { addon, loaded } = loadLlamaBackends(backend, opts);
    const gpuDevice = loaded.devices.find((d) => d.type === 1 || d.type === 2);
    if (backend !== "cpu" && !gpuDevice) throw new ModelError(`no ${backend} device found on this machine (use --gpu off)`);
    let native: NativeEngine;
    try {
      native = new addon.Engine({ modelPath, gpuLayers: backend === "cpu" ? 0 : 999 });
    } catch (e) {
      throw new ModelError(`${(e as Error).message} (is it a GGUF model file?)`);
    }
    const raw = native.info();
    if (raw.hasEncoder) throw new ModelError(`${path.basename(modelPath)} is an encoder-decoder model; llmzip needs a decoder-only language model`);
    const startToken = raw.bos >= 0 ? raw.bos : raw.eos >= 0 ? raw.eos : 0;
    const threads = asked ?? defaultThreads(raw.parameters);
    return new LlamaEngine(native, modelPath, { ...raw, backend, cpuVariant: backend === "cpu" ? loaded.cpuVariant : "", startToken, threads }, threads);
  }

  tokenize(bytes: Uint8Array): Int32Array {
    return this.native.tokenize(bytes);
  }

  detokenize(tokens: Int32Array): Buffer {
    return this.native.detokenize(tokens);
  }

  /** (Re)creates the lane context when the settings differ from the current one. */
  configure(settings: LaneSettings): void {
    const { carry, ...lane } = settings;
    const config: NativeLaneConfig = { ...lane, threads: this.threads };
    if (carry !== undefined) config.batchRows = settings.lanes * (carry + 1);
    const key = JSON.stringify(config);
    this.span = carry === undefined ? undefined : { window: settings.ctx, carry };
    if (key === this.configured) return;
    this.configured = undefined;
    try {
      this.native.configure(config);
    } catch (e) {
      throw new ModelError(explainConfigureError((e as Error).message));
    }
    this.configured = key;
  }

  /**
   * Range-codes chunks of tokens in lockstep lanes; one stream for the whole
   * run. In span mode (configured with `carry`) chunk i is lane i's span. With `contexts`, chunk i is coded as the continuation of
   * `contexts[i]` (evaluated, not coded; the decoder must pass the same).
   * `skipCoding` evaluates the same schedule without coding (timing baseline).
   * `mixer` picks a context-mixing configuration (0 or absent: the bare model); with `bareToo` the
   * same pass also codes the bare model's stream (`bareStream`), which mixer 0 decodes.
   * `scoreRows` scores instead (no stream; per-token model bits in the stats): each chunk from a fresh context, up to that many
   * positions per batch (configure `batchRows` at least as large).
   */
  encode(
    chunks: Int32Array[],
    opts: RunOptions & { skipCoding?: boolean; contexts?: Int32Array[]; mixer?: number; bareToo?: boolean; giveUp?: GiveUpCheckpoint[]; scoreRows?: number } = {},
  ): Promise<{ stream: Buffer; bareStream?: Buffer; stats: LaneRunStats }> {
    const args: Parameters<NativeEngine["encode"]>[1] = { startToken: this.info.startToken, skipCoding: opts.skipCoding ?? false, mixer: opts.mixer ?? 0 };
    if (opts.bareToo) args.bareToo = true;
    if (opts.scoreRows !== undefined) args.scoreRows = opts.scoreRows;
    if (this.span) args.span = this.span;
    if (opts.giveUp) args.giveUp = opts.giveUp;
    let input = chunks;
    if (opts.contexts) {
      const contexts = opts.contexts;
      if (contexts.length !== chunks.length) throw new RangeError("one context per chunk is needed");
      input = chunks.map((c, i) => concatTokens(contexts[i] as Int32Array, c));
      args.prefixLengths = contexts.map((c) => c.length);
    }
    return this.track(() => this.native.encode(input, args), opts);
  }

  /** Decodes a stream made by {@link encode} with the same settings, chunk lengths, contexts and mixer. */
  decode(stream: Uint8Array, lengths: number[], opts: RunOptions & { contexts?: Int32Array[]; mixer?: number } = {}): Promise<{ chunks: Int32Array[]; stats: LaneRunStats }> {
    const args: Parameters<NativeEngine["decode"]>[2] = { startToken: this.info.startToken, mixer: opts.mixer ?? 0 };
    if (this.span) args.span = this.span;
    if (opts.contexts) args.prefixes = opts.contexts;
    return this.track(() => this.native.decode(stream, lengths, args), opts);
  }

  close(): void {
    this.native.close();
  }

  private async track<T>(run: () => Promise<T>, opts: RunOptions): Promise<T> {
    if (opts.signal?.aborted) throw new CancelledError("interrupted");
    const onAbort = () => this.native.cancel();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = opts.onProgress ? setInterval(() => opts.onProgress?.(this.native.progress()), 100) : undefined;
    try {
      const result = await run();
      opts.onProgress?.(this.native.progress());
      return result;
    } catch (e) {
      const err = e as Error & { cancelled?: boolean; corruptStream?: boolean };
      if (err.cancelled || opts.signal?.aborted) throw new CancelledError("interrupted");
      if (err.corruptStream) throw new CorruptArchiveError(`archive is corrupt: ${err.message} (truncated or damaged data, or decoded with other settings than it was coded with)`);
      throw new ModelError(`model evaluation failed: ${err.message}`);
    } finally {
      if (timer) clearInterval(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}
