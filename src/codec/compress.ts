import path from "node:path";
import { ChunkMethod, serializeArchive, type AdapterRef, type ArchiveHeader, type ChunkEntry, type CodingSettings } from "../container/format.js";
import { LlmzipError, UsageError } from "../errors.js";
import { LlamaEngine, type LaneSettings } from "../engine/engine.js";
import type { LaneRunStats } from "../engine/native.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { planChunks, type PlannedChunk } from "./chunker.js";
import { brotliMax, crc32 } from "./fallback.js";
import { DEFAULT_LANES, DEFAULT_MAX_CTX, DEFAULT_MIXER, type CompressOptions } from "./options.js";
import { decompress } from "./decompress.js";

/** Settings shared by every lane context of this build: fixed so that archives stay decodable. */
export const FIXED_LANE_SETTINGS = { flashAttention: false, kvType: "f16" } as const;
export const FREQ_BITS = 31;

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
  /** Wall time of the model runs of the final pass, in seconds. */
  encodeSeconds: number;
  /** Passes over the model: 2 when some chunks turned out cheaper with brotli. */
  passes: number;
}

export interface CompressResult {
  archive: Uint8Array;
  stats: CompressStats;
}

function positiveInt(value: number | undefined, fallback: number, name: string, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`${name} must be a whole number from 1 to ${max} (got ${value})`);
  return v;
}

/** The archive for input that no model touches: one brotli chunk, or stored if brotli does not help. */
export function plainArchive(data: Uint8Array, brotli: Uint8Array = brotliMax(data)): Uint8Array {
  const header: ArchiveHeader = {
    mode: "lossless",
    originalLength: data.length,
    originalCrc32: crc32(data),
    adapterSets: [],
    streams: [],
    chunks: [],
    meta: {},
  };
  if (data.length === 0) return serializeArchive(header, { streams: [], blobs: [] });
  const useBrotli = brotli.length < data.length;
  header.chunks.push({
    method: useBrotli ? ChunkMethod.Brotli : ChunkMethod.Raw,
    rawLength: data.length,
    crc32: header.originalCrc32,
    stream: 0,
    tokenCount: 0,
    codedLength: useBrotli ? brotli.length : data.length,
  });
  return serializeArchive(header, { streams: [], blobs: [useBrotli ? brotli : data] });
}

/** Merges neighbouring fallback chunks after some model chunks were demoted. */
function mergeFallbacks(chunks: PlannedChunk[]): PlannedChunk[] {
  const out: PlannedChunk[] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (!c.tokens && last && !last.tokens && last.end === c.start) last.end = c.end;
    else out.push({ ...c });
  }
  return out;
}

/**
 * Compresses bytes with a language model. The result always decompresses to
 * exactly `data`; where the model cannot help, the archive falls back to
 * brotli or stored bytes and is never more than a few dozen bytes larger
 * than brotli -q 11 of the whole input.
 */
export async function compress(data: Uint8Array, opts: CompressOptions): Promise<CompressResult> {
  const lanesWanted = positiveInt(opts.lanes, DEFAULT_LANES, "--lanes", 256);
  const mixer = opts.mix === false ? 0 : DEFAULT_MIXER;
  const brotliWhole = brotliMax(data);
  const plain = (): CompressResult => {
    const archive = plainArchive(data, brotliWhole);
    return {
      archive,
      stats: { originalBytes: data.length, archiveBytes: archive.length, method: "plain", modelChunks: 0, fallbackChunks: data.length ? 1 : 0, modelBytes: 0, streamBytes: 0, encodeSeconds: 0, passes: 0 },
    };
  };
  if (data.length === 0) return plain();

  const engine = opts.engine ?? LlamaEngine.open(opts.model, { gpu: opts.gpu ?? "auto", threads: opts.threads, verbose: opts.verbose });
  try {
    const info = engine.info;
    const ctx = positiveInt(opts.ctx, Math.min(info.contextLength || DEFAULT_MAX_CTX, DEFAULT_MAX_CTX), "--ctx", 1 << 20);
    opts.onProgress?.({ phase: "analyse", done: 0, total: data.length });
    let plan = planChunks(data, engine, { maxTokens: ctx });
    opts.onProgress?.({ phase: "analyse", done: data.length, total: data.length });

    const adapters = opts.adapters ?? [];
    let passes = 0;
    let run: { stream: Buffer; stats: LaneRunStats } | undefined;
    let lanes = 1;
    let encodeSeconds = 0;
    for (;;) {
      const modelChunks = plan.filter((c) => c.tokens);
      if (modelChunks.length === 0) return plain();
      lanes = Math.min(lanesWanted, modelChunks.length);
      const settings: LaneSettings = { lanes, ctx, ...FIXED_LANE_SETTINGS, adapters };
      engine.configure(settings);
      const total = modelChunks.reduce((n, c) => n + (c.tokens?.length ?? 0), 0);
      const t0 = performance.now();
      run = await engine.encode(
        modelChunks.map((c) => c.tokens as Int32Array),
        { mixer, signal: opts.signal, onProgress: (done) => opts.onProgress?.({ phase: "encode", done, total }) },
      );
      encodeSeconds = (performance.now() - t0) / 1000;
      passes++;
      if (opts.forceModel || passes > 1) break;
      // A chunk the model codes worse than brotli goes to brotli. Removing it
      // changes the lane schedule, so the remaining chunks are coded again.
      let demoted = 0;
      modelChunks.forEach((c, i) => {
        const bits = run?.stats.chunkBits[i] ?? 0;
        if (bits / 8 > brotliMax(data.subarray(c.start, c.end)).length) {
          delete c.tokens;
          demoted++;
        }
      });
      if (demoted === 0) break;
      plan = mergeFallbacks(plan);
    }
    if (!run) throw new LlmzipError("internal error: no model run");

    const archive = await buildArchive(data, plan, run.stream, engine, { lanes, ctx, mixer }, adapters);
    const modelChunks = plan.filter((c) => c.tokens);
    const stats: CompressStats = {
      originalBytes: data.length,
      archiveBytes: archive.length,
      method: "model",
      modelChunks: modelChunks.length,
      fallbackChunks: plan.length - modelChunks.length,
      modelBytes: modelChunks.reduce((n, c) => n + c.end - c.start, 0),
      lanes: run.stats,
      streamBytes: run.stream.length,
      encodeSeconds,
      passes,
    };
    if (!opts.forceModel && archive.length > plainArchive(data, brotliWhole).length) return plain();
    if (opts.verify) await verifyArchive(archive, data, { ...opts, engine });
    return { archive, stats };
  } finally {
    if (!opts.engine) engine.close();
  }
}

async function buildArchive(
  data: Uint8Array,
  plan: PlannedChunk[],
  stream: Uint8Array,
  engine: LlamaEngine,
  { lanes, ctx, mixer }: { lanes: number; ctx: number; mixer: number },
  adapters: { path: string; scale: number }[],
): Promise<Uint8Array> {
  const fp = await fingerprintFile(engine.modelPath);
  const info = engine.info;
  const adapterRefs: AdapterRef[] = [];
  for (const a of adapters) {
    const afp = await fingerprintFile(a.path);
    adapterRefs.push({ name: path.basename(a.path), size: afp.size, sha256: afp.sha256, scale: a.scale });
  }
  const settings: CodingSettings = {
    lanes,
    ctx,
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
      chunks.push({ method: ChunkMethod.Llm, rawLength: bytes.length, crc32: crc32(bytes), stream: 0, tokenCount: c.tokens.length, codedLength: 0 });
    } else {
      const br = brotliMax(bytes);
      const useBrotli = br.length < bytes.length;
      const blob = useBrotli ? br : bytes;
      chunks.push({ method: useBrotli ? ChunkMethod.Brotli : ChunkMethod.Raw, rawLength: bytes.length, crc32: crc32(bytes), stream: 0, tokenCount: 0, codedLength: blob.length });
      blobs.push(blob);
    }
  }
  const header: ArchiveHeader = {
    mode: "lossless",
    originalLength: data.length,
    originalCrc32: crc32(data),
    model: { name: info.name || path.basename(engine.modelPath), size: fp.size, sha256: fp.sha256 },
    settings,
    adapterSets: [adapterRefs],
    streams: [{ adapterSet: 0, codedLength: stream.length }],
    chunks,
    meta: {},
  };
  return serializeArchive(header, { streams: [stream], blobs });
}

async function verifyArchive(archive: Uint8Array, data: Uint8Array, opts: CompressOptions & { engine: LlamaEngine }): Promise<void> {
  const back = await decompress(archive, {
    model: opts.model,
    adapters: opts.adapters?.map((a) => a.path),
    engine: opts.engine,
    signal: opts.signal,
    onProgress: opts.onProgress && ((p) => opts.onProgress?.({ ...p, phase: "verify" })),
    onWarning: opts.onWarning,
  });
  if (Buffer.compare(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength), Buffer.from(data.buffer, data.byteOffset, data.byteLength)) !== 0) {
    throw new LlmzipError("verification failed: the archive does not decompress to the input (nothing was written); please report this");
  }
}
