import path from "node:path";
import { ChunkMethod, serializeArchive, type AdapterRef, type ArchiveHeader, type ChunkEntry, type CodingSettings } from "../container/format.js";
import { CancelledError, LlmzipError, UsageError } from "../errors.js";
import { LlamaEngine, type LaneSettings } from "../engine/engine.js";
import type { LaneRunStats } from "../engine/native.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { chooseAdapterSets, type AdapterTrial } from "./adapter-choice.js";
import { adapterRef, checkAdapterFilesExist } from "./adapter-files.js";
import { planChunks, type PlannedChunk } from "./chunker.js";
import { brotliMax, brotliMaxAsync } from "./fallback.js";
import { crc32, sameBytes } from "../util/bytes.js";
import { sumOf } from "../util/sum.js";
import type { AdapterSpec, CompressOptions } from "./options.js";
import { defaultContext, defaultLanes, DEFAULT_MIXER, FIXED_LANE_SETTINGS, FREQ_BITS, KNOWN_MIXERS, MAX_LANES, MIN_CTX, maxContext } from "./settings.js";
import { cutSpans, defaultCarry, joinTokens, lanesForStream, spanBounds } from "./spans.js";
import type { GiveUpCheckpoint } from "../engine/native.js";
import { decompress } from "./decompress.js";

/** Measurements of one compression, for `info`, `bench` and the CLI's summary. */
export interface CompressStats {
  originalBytes: number;
  archiveBytes: number;
  /** "model": some chunks were coded by the model; "plain": the whole input went to brotli or was stored. */
  method: "model" | "plain";
  modelChunks: number;
  fallbackChunks: number;
  /** Bytes of input the model coded. */
  modelBytes: number;
  /** Coder statistics of the model-coded chunks (absent when none). */
  lanes?: LaneRunStats;
  /** Length of the range-coded stream(s) in bytes. */
  streamBytes: number;
  /** Wall time of the model runs, in seconds. */
  encodeSeconds: number;
  /** Passes over the model: 1 (format 2 codes each stream once, the bare model's stream beside the mixed one: see {@link smallerStreams}); 0 for a plain archive. */
  passes: number;
  /** Set when the model was given up on early (it coded worse than brotli): the step (tokens per lane) where it stopped; the archive is plain. */
  gaveUpAtStep?: number;
  /** One entry per range-coded stream, i.e. per adapter set in use (empty for "plain"). */
  streams: StreamStats[];
  /** How the adapters were chosen, when an adapter choice was asked for. */
  adapterTrial?: AdapterTrial;
}

/** What one stream (one adapter set) coded. */
export interface StreamStats {
  adapters: AdapterSpec[];
  chunks: number;
  /** Input bytes of its chunks. */
  bytes: number;
  tokens: number;
  streamBytes: number;
}

/** What compress wrote: the archive, its header (settings included) and measurements; no caller needs to parse the archive again. */
export interface CompressResult {
  archive: Uint8Array;
  /** The archive's header as written; `header.settings` are the coding settings (absent when no model coded anything). */
  header: ArchiveHeader;
  stats: CompressStats;
}

/** An archive as built, before and after serialisation. */
interface Written {
  archive: Uint8Array;
  header: ArchiveHeader;
}

/** The label of an archive: its mode and the extensions a mode adds (lossy's meta entries). */
type Label = Pick<ArchiveHeader, "mode" | "meta">;

const LOSSLESS: Label = { mode: "lossless", meta: {} };

function positiveInt(value: number | undefined, fallback: number, name: string, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`${name} must be a whole number from 1 to ${max} (got ${value})`);
  return v;
}

/** The archive for input that no model touches: one brotli chunk, or stored if brotli does not help. */
export function plainArchive(data: Uint8Array, brotli: Uint8Array = brotliMax(data)): Uint8Array {
  return writePlain(data, brotli, LOSSLESS).archive;
}

function writePlain(data: Uint8Array, brotli: Uint8Array, label: Label): Written {
  const header: ArchiveHeader = {
    mode: label.mode,
    originalLength: data.length,
    originalCrc32: crc32(data),
    adapterSets: [],
    streams: [],
    chunks: [],
    meta: { ...label.meta },
  };
  if (data.length === 0) return { archive: serializeArchive(header, { streams: [], blobs: [] }), header };
  const useBrotli = brotli.length < data.length;
  header.chunks.push({
    method: useBrotli ? ChunkMethod.Brotli : ChunkMethod.Raw,
    rawLength: data.length,
    crc32: header.originalCrc32,
    stream: 0,
    tokenCount: 0,
    codedLength: useBrotli ? brotli.length : data.length,
  });
  return { archive: serializeArchive(header, { streams: [], blobs: [useBrotli ? brotli : data] }), header };
}

/** Lets signal handlers run inside a long synchronous loop, and stops there once aborted. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw new CancelledError("interrupted");
}

/** A planned chunk and, when the model codes it, the adapter set (index into the run's sets) it is coded with. */
interface CodedChunk extends PlannedChunk {
  set: number;
}

/** One range-coded stream: the model chunks of one adapter set, in chunk order, in one lane run. */
interface StreamRun {
  set: number;
  /** The lane settings the stream was coded with (the decoder's). */
  settings: LaneSettings;
  chunks: CodedChunk[];
  /** The lanes' spans of the stream's tokens. */
  spans: Int32Array[];
  stream: Buffer;
  /** With a mixer: the bare model's stream from the same pass (what mixer 0 decodes). */
  bareStream?: Buffer;
  stats: LaneRunStats;
  seconds: number;
}

/** What a compression codes with: the adapter sets and, in auto mode, how they were chosen. */
interface AdapterPlan {
  sets: AdapterSpec[][];
  /** Per model chunk, its index into `sets`. */
  choice: number[];
  trial?: AdapterTrial;
}

/** Rejects contradictory adapter options and missing files before any model is loaded. */
function checkAdapterOptions(opts: CompressOptions): void {
  if (opts.adapters?.length && opts.adapterChoice) throw new UsageError("give either fixed adapters or an adapter choice, not both");
  if (opts.adapterChoice && opts.adapterChoice.candidates.length === 0) throw new UsageError("the adapter choice has no candidates");
  for (const a of [...(opts.adapters ?? []), ...(opts.adapterChoice?.candidates.flat() ?? [])]) {
    if (!Number.isFinite(a.scale)) throw new UsageError(`adapter scale must be a finite number (got ${a.scale} for ${a.path})`);
  }
  checkAdapterFilesExist([...(opts.adapters ?? []), ...(opts.adapterChoice?.candidates.flat() ?? [])]);
}

/** Fixed adapters code every chunk; an adapter choice trial-codes each chunk under every candidate. */
async function planAdapters(engine: LlamaEngine, chunks: CodedChunk[], lane: Omit<LaneSettings, "adapters">, opts: CompressOptions): Promise<AdapterPlan> {
  if (!opts.adapterChoice) return { sets: [opts.adapters ?? []], choice: chunks.map(() => 0) };
  const trial = await chooseAdapterSets(engine, chunks.map((c) => c.tokens as Int32Array), opts.adapterChoice, {
    lane,
    signal: opts.signal,
    onWarning: opts.onWarning,
    onProgress: (done, total) => opts.onProgress?.({ phase: "trial", done, total }),
  });
  return { sets: trial.sets, choice: trial.choice, trial };
}

/** The context-mixing configuration to code with: the one asked for, else the default; none when `mix` is false. */
function mixerOf(opts: CompressOptions): number {
  if (opts.mix === false) return 0;
  const id = opts.mixer ?? DEFAULT_MIXER;
  if (id === 0 || !KNOWN_MIXERS.includes(id)) throw new RangeError(`unknown context-mixing configuration ${id} (known: ${KNOWN_MIXERS.filter((m) => m !== 0).join(", ")})`);
  return id;
}

/**
 * Merges neighbouring model pieces of one adapter set into one chunk,
 * tokenized whole: context then runs across the old cuts and the chunk table
 * stays short. Where the whole does not survive the tokenizer round trip,
 * the halves are tried, down to the pieces the chunker verified.
 */
function mergePieces(data: Uint8Array, pieces: CodedChunk[], engine: LlamaEngine): CodedChunk[] {
  const out: CodedChunk[] = [];
  const merge = (run: CodedChunk[]): void => {
    const first = run[0] as CodedChunk;
    const last = run[run.length - 1] as CodedChunk;
    if (run.length === 1) {
      out.push(first);
      return;
    }
    const bytes = data.subarray(first.start, last.end);
    const tokens = engine.tokenize(bytes);
    if (tokens.length > 0 && sameBytes(engine.detokenize(tokens), bytes)) {
      out.push({ start: first.start, end: last.end, tokens, set: first.set });
      return;
    }
    const half = Math.ceil(run.length / 2);
    merge(run.slice(0, half));
    merge(run.slice(half));
  };
  let run: CodedChunk[] = [];
  for (const c of pieces) {
    const last = run[run.length - 1];
    if (last && (!c.tokens || last.end !== c.start || last.set !== c.set)) {
      merge(run);
      run = [];
    }
    if (c.tokens) run.push(c);
    else out.push(c);
  }
  if (run.length) merge(run);
  return out;
}

/**
 * Steps (tokens per lane) at which encoding gives up unless its bits stay
 * under `factor` x brotli's on the same prefixes. Measured with stories260K
 * (mixing on, 8 lanes): structured logs 0.44 / 0.47 at 256 / 1024 steps,
 * JSON 0.85 / 0.61, English prose (alice29) 0.64 / 0.73 / 0.76 at 256 / 512
 * / 1024, whole files all smaller than brotli; a random-weight model
 * (synth58M) on English 0.92-0.98 at 256 and 0.92-0.96 at 512 steps, its
 * whole file no smaller than brotli's. The mixer keeps a useless model close
 * to cold brotli on short prefixes, so the first bar sits just under it: a
 * random model is caught at 256 steps. The later bars are looser because
 * numeric JSON (canada.json, mixer 2) runs at 0.81 / 0.85 / 0.91 / 0.94 /
 * 0.93 / 0.93 at 128 / 256 / 512 / 1024 / 2048 / 4096 steps: brotli finds
 * the long repeats of a growing prefix early, the mixer later, and the whole
 * file still ends below brotli. Past the first bar a missed give-up costs a
 * pass, never bytes: the archive is still compared with brotli's at the end.
 */
const GIVE_UP_CHECKPOINTS: readonly { steps: number; factor: number }[] = [
  { steps: 256, factor: 0.9 },
  { steps: 512, factor: 0.96 },
  { steps: 2048, factor: 0.96 },
];

/**
 * Give-up checkpoints for a stream (encoder policy, not recorded): at each,
 * the bits coded so far are compared with brotli -q 11 of the same prefix of
 * every span, each compressed alone (so that both start cold). Token offsets
 * are mapped to bytes at the stream's average bytes per token.
 */
function giveUpPlan(chunks: CodedChunk[], data: Uint8Array, spans: Int32Array[]): GiveUpCheckpoint[] {
  const bytes = Buffer.concat(chunks.map((c) => data.subarray(c.start, c.end)));
  const total = sumOf(spans, (s) => s.length);
  const perToken = bytes.length / Math.max(1, total);
  const starts = spanBounds(total, spans.length);
  const longest = Math.max(...spans.map((s) => s.length));
  const plan: GiveUpCheckpoint[] = [];
  for (const { steps, factor } of GIVE_UP_CHECKPOINTS) {
    if (steps >= longest) break;
    let brotliBits = 0;
    spans.forEach((s, i) => {
      const from = Math.round((starts[i] ?? 0) * perToken);
      const to = Math.round(((starts[i] ?? 0) + Math.min(steps, s.length)) * perToken);
      brotliBits += brotliMax(bytes.subarray(from, to)).length * 8;
    });
    plan.push({ step: steps, maxBits: brotliBits * factor });
  }
  return plan;
}

/** Where a stream's coding stopped because the model was losing to brotli. */
interface GaveUp {
  gaveUpAtStep: number;
}

/**
 * Codes the model chunks of one adapter set as one stream: their tokens
 * joined and cut into one span per lane, or stops early (GaveUp).
 */
async function encodeStream(
  engine: LlamaEngine,
  data: Uint8Array,
  set: number,
  chunks: CodedChunk[],
  settings: LaneSettings,
  mixer: number,
  opts: CompressOptions,
  progress: { done: number; total: number },
): Promise<StreamRun | GaveUp> {
  const tokens = joinTokens(chunks.map((c) => c.tokens as Int32Array));
  const used = { ...settings, lanes: lanesForStream(tokens.length, settings.lanes, settings.ctx) };
  engine.configure(used);
  const spans = cutSpans(tokens, used.lanes);
  const t0 = performance.now();
  const base = progress.done;
  const run = await engine.encode(spans, {
    mixer,
    bareToo: mixer !== 0,
    signal: opts.signal,
    giveUp: opts.forceModel ? undefined : giveUpPlan(chunks, data, spans),
    onProgress: (done) => opts.onProgress?.({ phase: "encode", done: base + done, total: progress.total }),
  });
  progress.done += tokens.length;
  if (run.stats.gaveUpAtStep !== undefined) return { gaveUpAtStep: run.stats.gaveUpAtStep };
  return { set, settings: used, chunks, spans, stream: run.stream, bareStream: run.bareStream, stats: run.stats, seconds: (performance.now() - t0) / 1000 };
}

/** Sums the statistics of several streams. */
function mergeRunStats(runs: StreamRun[]): LaneRunStats {
  const total: LaneRunStats = { tokens: 0, steps: 0, modelBits: 0, tableBits: 0, decodeSeconds: 0, codingSeconds: 0, chunkBits: new Float64Array(0), chunkModelBits: new Float64Array(0) };
  for (const r of runs) {
    total.tokens += r.stats.tokens;
    total.steps += r.stats.steps;
    total.modelBits += r.stats.modelBits;
    total.tableBits += r.stats.tableBits;
    total.decodeSeconds += r.stats.decodeSeconds;
    total.codingSeconds += r.stats.codingSeconds;
  }
  return total;
}

/**
 * Codes the model chunks, one stream per adapter set, each once; stops at the
 * first stream that gives up (the model codes worse than brotli there).
 */
async function codeStreams(
  engine: LlamaEngine,
  data: Uint8Array,
  plan: CodedChunk[],
  sets: AdapterSpec[][],
  lane: Omit<LaneSettings, "adapters">,
  mixer: number,
  opts: CompressOptions,
): Promise<StreamRun[] | GaveUp> {
  const modelChunks = plan.filter((c) => c.tokens);
  const progress = { done: 0, total: sumOf(modelChunks, (c) => c.tokens?.length ?? 0) };
  const runs: StreamRun[] = [];
  for (const s of sets.keys()) {
    const chunks = modelChunks.filter((c) => c.set === s);
    if (chunks.length === 0) continue;
    const run = await encodeStream(engine, data, s, chunks, { ...lane, adapters: sets[s] ?? [] }, mixer, opts, progress);
    if ("gaveUpAtStep" in run) return run;
    runs.push(run);
  }
  return runs;
}

/**
 * The streams to keep: the mixed ones, or the bare model's from the same
 * pass (mixer 0) when those are smaller in total. The mixer learns from the
 * text as it goes, so on a few hundred tokens it can lose a little to the
 * bare model (measured: the 644-byte story, 177 bytes mixed against 174
 * bare); the header holds one mixer for all streams.
 */
function smallerStreams(streams: StreamRun[], mixer: number): { streams: StreamRun[]; mixer: number } {
  if (mixer === 0 || !streams.every((r) => r.bareStream)) return { streams, mixer };
  if (sumOf(streams, (r) => r.bareStream?.length ?? 0) >= sumOf(streams, (r) => r.stream.length)) return { streams, mixer };
  return { streams: streams.map((r) => ({ ...r, stream: r.bareStream as Buffer })), mixer: 0 };
}

/**
 * Compresses bytes with a language model. The result always decompresses to
 * exactly `data`; where the model cannot help, the archive falls back to
 * brotli or stored bytes and is never more than a few dozen bytes larger
 * than brotli -q 11 of the whole input.
 */
export async function compress(data: Uint8Array, opts: CompressOptions): Promise<CompressResult> {
  // Checked before the brotli pass so that a usage error comes at once; the default needs the backend.
  const lanesAsked = opts.lanes === undefined ? undefined : positiveInt(opts.lanes, 1, "--lanes", MAX_LANES);
  checkAdapterOptions(opts);
  // Off the main thread: on tens of megabytes this takes a minute or more,
  // and signals must still be handled meanwhile.
  const brotliWhole = await brotliMaxAsync(data);
  if (opts.signal?.aborted) throw new CancelledError("interrupted");
  const label: Label = { mode: opts.mode ?? "lossless", meta: opts.meta ?? {} };
  let plainWritten: Written | undefined;
  // Built at most once: the model's archive is compared with it, and it may be the result.
  const plainOnce = () => (plainWritten ??= writePlain(data, brotliWhole, label));
  const plain = (adapterTrial?: AdapterTrial, gaveUp?: GaveUp): CompressResult => {
    const { archive, header } = plainOnce();
    return {
      archive,
      header,
      stats: { originalBytes: data.length, archiveBytes: archive.length, method: "plain", modelChunks: 0, fallbackChunks: data.length ? 1 : 0, modelBytes: 0, streamBytes: 0, encodeSeconds: 0, passes: 0, streams: [], adapterTrial, ...gaveUp },
    };
  };
  if (data.length === 0) return plain();

  const engine =
    opts.engine ?? LlamaEngine.open(opts.model, { gpu: opts.gpu ?? "auto", threads: opts.threads, verbose: opts.verbose, cpuKernels: opts.cpuKernels, onWarning: opts.onWarning });
  try {
    const info = engine.info;
    const lanesWanted = lanesAsked ?? defaultLanes(info.backend);
    const ctx = positiveInt(opts.ctx, defaultContext(info.contextLength), "--ctx", maxContext(info.contextLength));
    if (ctx < MIN_CTX) throw new UsageError(`--ctx must be at least ${MIN_CTX}`);
    opts.onProgress?.({ phase: "analyse", done: 0, total: data.length });
    let plan: CodedChunk[] = planChunks(data, engine, { maxTokens: ctx }).map((c) => ({ ...c, set: 0 }));
    opts.onProgress?.({ phase: "analyse", done: data.length, total: data.length });
    if (!plan.some((c) => c.tokens)) return plain();

    const lane = { lanes: lanesWanted, ctx, ...FIXED_LANE_SETTINGS };
    const adapters = await planAdapters(engine, plan.filter((c) => c.tokens), lane, opts);
    plan.filter((c) => c.tokens).forEach((c, i) => (c.set = adapters.choice[i] ?? 0));
    plan = mergePieces(data, plan, engine);

    const carry = defaultCarry(ctx);
    const asked = mixerOf(opts);
    const coded = await codeStreams(engine, data, plan, adapters.sets, { ...lane, carry }, asked, opts);
    if ("gaveUpAtStep" in coded) return plain(adapters.trial, coded);
    const { streams, mixer } = smallerStreams(coded, asked);
    const { archive, header } = await buildArchive(data, plan, streams, adapters.sets, engine, { ctx, carry, mixer, label });
    const modelChunks = plan.filter((c) => c.tokens);
    const stats: CompressStats = {
      originalBytes: data.length,
      archiveBytes: archive.length,
      method: "model",
      modelChunks: modelChunks.length,
      fallbackChunks: plan.length - modelChunks.length,
      modelBytes: sumOf(modelChunks, (c) => c.end - c.start),
      lanes: mergeRunStats(streams),
      streamBytes: sumOf(streams, (r) => r.stream.length),
      encodeSeconds: sumOf(streams, (r) => r.seconds),
      passes: 1,
      streams: streams.map((r) => ({
        adapters: adapters.sets[r.set] ?? [],
        chunks: r.chunks.length,
        bytes: sumOf(r.chunks, (c) => c.end - c.start),
        tokens: r.stats.tokens,
        streamBytes: r.stream.length,
      })),
      adapterTrial: adapters.trial,
    };
    if (!opts.forceModel && archive.length > plainOnce().archive.length) return plain(adapters.trial);
    opts.onSchedule?.(streams.map((r) => ({ settings: r.settings, chunks: r.spans })));
    if (opts.verify) await verifyArchive(archive, data, { ...opts, engine }, streams.map((r) => adapters.sets[r.set] ?? []).flat());
    return { archive, header, stats };
  } finally {
    if (!opts.engine) engine.close();
  }
}

/**
 * The header and payload: one stream per adapter set that still codes some
 * chunk (in set order), each chunk naming its stream. Each stream records
 * the lanes it ran; the model section's lane count is the most any uses.
 */
async function buildArchive(
  data: Uint8Array,
  plan: CodedChunk[],
  streams: StreamRun[],
  sets: AdapterSpec[][],
  engine: LlamaEngine,
  { ctx, carry, mixer, label }: { ctx: number; carry: number; mixer: number; label: Label },
): Promise<Written> {
  const fp = await fingerprintFile(engine.modelPath);
  const info = engine.info;
  const adapterSets: AdapterRef[][] = [];
  for (const r of streams) adapterSets.push(await Promise.all((sets[r.set] ?? []).map(adapterRef)));
  const streamOf = new Map(streams.map((r, i) => [r.set, i]));
  const settings: CodingSettings = {
    lanes: Math.max(...streams.map((r) => r.settings.lanes)),
    ctx,
    carry,
    vocabSize: info.vocabSize,
    startToken: info.startToken,
    backend: info.backend,
    cpuVariant: info.cpuVariant,
    flashAttention: FIXED_LANE_SETTINGS.flashAttention,
    kvType: FIXED_LANE_SETTINGS.kvType,
    freqBits: FREQ_BITS,
    mixer,
  };
  const chunks: ChunkEntry[] = [];
  const blobs: Uint8Array[] = [];
  for (const c of plan) {
    const bytes = data.subarray(c.start, c.end);
    if (c.tokens) {
      const stream = streamOf.get(c.set);
      if (stream === undefined) throw new LlmzipError("internal error: a model chunk has no stream");
      chunks.push({ method: ChunkMethod.Llm, rawLength: bytes.length, crc32: crc32(bytes), stream, tokenCount: c.tokens.length, codedLength: 0 });
    } else {
      const br = brotliMax(bytes);
      const useBrotli = br.length < bytes.length;
      const blob = useBrotli ? br : bytes;
      chunks.push({ method: useBrotli ? ChunkMethod.Brotli : ChunkMethod.Raw, rawLength: bytes.length, crc32: crc32(bytes), stream: 0, tokenCount: 0, codedLength: blob.length });
      blobs.push(blob);
    }
  }
  const header: ArchiveHeader = {
    mode: label.mode,
    originalLength: data.length,
    originalCrc32: crc32(data),
    model: { name: info.name || path.basename(engine.modelPath), size: fp.size, sha256: fp.sha256 },
    settings,
    adapterSets,
    streams: streams.map((r, i) => ({ adapterSet: i, codedLength: r.stream.length, lanes: r.settings.lanes })),
    chunks,
    meta: { ...label.meta },
  };
  return { archive: serializeArchive(header, { streams: streams.map((r) => r.stream), blobs }), header };
}

async function verifyArchive(archive: Uint8Array, data: Uint8Array, opts: CompressOptions & { engine: LlamaEngine }, adapters: AdapterSpec[]): Promise<void> {
  const back = await decompress(archive, {
    model: opts.model,
    adapters,
    engine: opts.engine,
    signal: opts.signal,
    onProgress: opts.onProgress && ((p) => opts.onProgress?.({ ...p, phase: "verify" })),
    onWarning: opts.onWarning,
  });
  if (!sameBytes(back.data, data)) {
    throw new LlmzipError("verification failed: the archive does not decompress to the input (nothing was written); please report this");
  }
}
