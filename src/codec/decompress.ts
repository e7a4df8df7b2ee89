import { ChunkMethod, parseArchive, type ArchiveHeader, type CodingSettings } from "../container/format.js";
import { CorruptArchiveError, MismatchError, ModelError } from "../errors.js";
import { LlamaEngine, chooseBackend } from "../engine/engine.js";
import { isBackend } from "../engine/locate.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { resolveAdapterSets } from "./adapter-files.js";
import { brotliExact } from "./fallback.js";
import { crc32, formatMegabytes, hex, shortHex } from "../util/bytes.js";
import type { DecompressOptions } from "./options.js";
import { FIXED_LANE_SETTINGS, FREQ_BITS, KNOWN_MIXERS, MAX_LANES, MIN_CTX, maxContext } from "./settings.js";
import { joinTokens, spanBounds } from "./spans.js";

export interface DecompressResult {
  data: Uint8Array;
  header: ArchiveHeader;
}

/** Checks that a model file is the one the archive was made with, before any decoding. */
async function checkModel(header: ArchiveHeader, modelPath: string): Promise<void> {
  const want = header.model;
  if (!want) return;
  const got = await fingerprintFile(modelPath).catch(() => {
    throw new ModelError(`model file not found: ${modelPath}`);
  });
  if (got.size !== want.size || hex(got.sha256) !== hex(want.sha256)) {
    throw new MismatchError(
      `wrong model: the archive needs ${want.name} (${formatMegabytes(want.size)}, sha256 ${shortHex(want.sha256)}), ` +
        `but ${modelPath} is ${formatMegabytes(got.size)} with sha256 ${shortHex(got.sha256)}`,
    );
  }
}

function checkSettings(header: ArchiveHeader, engine: LlamaEngine): void {
  const s = header.settings;
  if (!s) return;
  const info = engine.info;
  if (s.freqBits !== FREQ_BITS) throw new MismatchError(`archive uses ${s.freqBits}-bit frequency tables; this llmzip codes ${FREQ_BITS}-bit ones`);
  if (s.flashAttention !== FIXED_LANE_SETTINGS.flashAttention || s.kvType !== FIXED_LANE_SETTINGS.kvType) {
    throw new MismatchError(`archive was coded with flash attention ${s.flashAttention ? "on" : "off"} and a ${s.kvType} KV cache, which this llmzip does not offer`);
  }
  if (!KNOWN_MIXERS.includes(s.mixer)) throw new MismatchError(`archive uses context-mixing configuration ${s.mixer}, which this llmzip does not know; upgrade llmzip`);
  if (s.vocabSize !== info.vocabSize) throw new MismatchError(`model vocabulary differs from the archive's (${info.vocabSize} tokens, the archive's has ${s.vocabSize})`);
  if (s.startToken !== info.startToken) throw new MismatchError(`the archive starts chunks with token ${s.startToken}, this model with ${info.startToken}`);
  const limit = maxContext(info.contextLength);
  if (s.ctx > limit) throw new MismatchError(`the archive's context size (${s.ctx} tokens) is more than llmzip uses with this model (at most ${limit}); the header was edited or the archive is damaged`);
  if (s.cpuVariant && info.cpuVariant && s.cpuVariant !== info.cpuVariant) {
    throw new MismatchError(`archive was made with llama.cpp's ${s.cpuVariant} CPU kernels, but this engine runs ${info.cpuVariant} kernels, whose predictions differ (open the engine with cpuKernels: "${s.cpuVariant}")`);
  }
}

/** Loads the model on the backend and CPU kernels the archive was coded with: others give other logits. */
function openOnArchiveBackend(modelPath: string, settings: CodingSettings, opts: DecompressOptions): LlamaEngine {
  const backend = settings.backend;
  if (!isBackend(backend)) throw new MismatchError(`archive was coded on the '${backend}' backend, which this llmzip does not know`);
  try {
    return LlamaEngine.openOn(modelPath, backend, { threads: opts.threads, verbose: opts.verbose, cpuKernels: settings.cpuVariant || "auto" });
  } catch (e) {
    const kernels = backend === "cpu" && settings.cpuVariant ? ` with llama.cpp's ${settings.cpuVariant} CPU kernels` : "";
    if (e instanceof ModelError && (backend !== "cpu" || kernels)) throw new ModelError(`archive was coded on the ${backend} backend${kernels} and decodes only there: ${e.message}`);
    throw e;
  }
}

/**
 * Limits every honest archive meets, checked before a model is loaded: a
 * header with a fresh CRC may still be forged, and these fields size the
 * lane context and the decode.
 */
function checkPlausible(header: ArchiveHeader): void {
  const s = header.settings;
  if (!s) return;
  if (s.lanes > MAX_LANES) throw new CorruptArchiveError(`archive is corrupt (${s.lanes} lanes; llmzip codes with at most ${MAX_LANES})`);
  if (s.ctx < MIN_CTX) throw new CorruptArchiveError(`archive is corrupt (context size ${s.ctx})`);
  // Positions within a span are 32-bit in the engine; no honest stream comes near.
  header.streams.forEach((st, i) => {
    const tokens = header.chunks.reduce((n, c) => n + (c.method === ChunkMethod.Llm && c.stream === i ? c.tokenCount : 0), 0);
    if (tokens / st.lanes > 2 ** 31 - 1) throw new CorruptArchiveError(`archive is corrupt (stream ${i + 1} declares ${tokens} tokens)`);
  });
}

/** The settings a model-coded chunk was decoded with, for a checksum failure's message. */
function describeDecoding(header: ArchiveHeader, stream: number): string {
  const s = header.settings;
  if (!s || !header.model) return "";
  const adapters = header.adapterSets[header.streams[stream]?.adapterSet ?? 0] ?? [];
  const withAdapters = adapters.length ? ` with adapters ${adapters.map((a) => `${a.name} x${a.scale}`).join(" + ")}` : "";
  return ` when decoded by ${header.model.name}${withAdapters} with lanes ${header.streams[stream]?.lanes ?? s.lanes}, ctx ${s.ctx} on ${s.backend}${s.cpuVariant ? ` (${s.cpuVariant} kernels)` : ""}`;
}

/**
 * Decompresses an llmzip archive. Every chunk is checked against its CRC-32
 * and the whole output against the original's; any difference throws
 * before the caller writes anything.
 */
export async function decompress(archive: Uint8Array, opts: DecompressOptions = {}): Promise<DecompressResult> {
  const { header, body } = parseArchive(archive);
  checkPlausible(header);
  const decodedStreams: Int32Array[][] = [];
  if (header.model && header.settings) {
    const modelPath = opts.engine?.modelPath ?? opts.model ?? (await opts.locateModel?.(header.model));
    if (!modelPath) {
      throw new ModelError(
        `this archive needs the model ${header.model.name} (${formatMegabytes(header.model.size)}, sha256 ${shortHex(header.model.sha256)}); pass it with -m PATH or set LLMZIP_MODEL`,
      );
    }
    await checkModel(header, modelPath);
    // Every adapter is found and checked before the model is even loaded.
    const adapterSets = await resolveAdapterSets(header.adapterSets, opts.adapters, opts.adaptersDirs);
    for (const file of adapterSets.unused) opts.onWarning?.(`adapter ${file} is not used by this archive`);
    const settings = header.settings;
    if (opts.gpu && opts.gpu !== "auto" && chooseBackend(opts.gpu) !== settings.backend) {
      throw new MismatchError(`archive was coded on the ${settings.backend} backend and decodes only there (use --gpu ${settings.backend === "cpu" ? "off" : settings.backend} or leave --gpu out)`);
    }
    const engine = opts.engine ?? openOnArchiveBackend(modelPath, settings, opts);
    try {
      if (engine.info.backend !== settings.backend) {
        throw new MismatchError(`archive was coded on the ${settings.backend} backend; decoding on ${engine.info.backend} would give other logits`);
      }
      checkSettings(header, engine);
      const total = header.chunks.reduce((n, c) => n + (c.method === ChunkMethod.Llm ? c.tokenCount : 0), 0);
      let doneBefore = 0;
      for (let s = 0; s < header.streams.length; s++) {
        const stream = header.streams[s];
        const streamBytes = body.streams[s];
        if (!stream || !streamBytes) throw new CorruptArchiveError("archive is corrupt: missing stream");
        const lengths = header.chunks.filter((c) => c.method === ChunkMethod.Llm && c.stream === s).map((c) => c.tokenCount);
        const adapters = adapterSets.sets[stream.adapterSet] ?? [];
        engine.configure({ lanes: stream.lanes, ctx: settings.ctx, carry: settings.carry, ...FIXED_LANE_SETTINGS, adapters });
        const streamTokens = lengths.reduce((a, b) => a + b, 0);
        const bounds = spanBounds(streamTokens, stream.lanes);
        const base = doneBefore;
        const { chunks: spans } = await engine.decode(
          streamBytes,
          bounds.slice(1).map((end, i) => end - (bounds[i] ?? 0)),
          { mixer: settings.mixer, signal: opts.signal, onProgress: (done) => opts.onProgress?.({ phase: "decode", done: base + done, total }) },
        );
        doneBefore += streamTokens;
        // The spans joined are the stream's tokens; its chunks take them in order.
        const tokens = joinTokens(spans);
        let at = 0;
        decodedStreams[s] = lengths.map((n) => tokens.subarray(at, (at += n)));
      }
      return assemble(header, body.blobs, decodedStreams, engine);
    } finally {
      if (!opts.engine) engine.close();
    }
  }
  return assemble(header, body.blobs, decodedStreams, undefined);
}

function assemble(header: ArchiveHeader, blobs: Uint8Array[], streams: Int32Array[][], engine: LlamaEngine | undefined): DecompressResult {
  // Pieces are kept until all passed their checksums: the output is sized by
  // bytes actually produced, never by the header's (forgeable) length field.
  const pieces: Uint8Array[] = [];
  let offset = 0;
  let blobIndex = 0;
  const nextInStream = streams.map(() => 0);
  header.chunks.forEach((c, i) => {
    let bytes: Uint8Array;
    if (c.method === ChunkMethod.Llm) {
      const k = nextInStream[c.stream] ?? 0;
      nextInStream[c.stream] = k + 1;
      const tokens = streams[c.stream]?.[k];
      if (!tokens || !engine) throw new CorruptArchiveError("archive is corrupt: chunk table and streams disagree");
      bytes = engine.detokenize(tokens);
    } else {
      const blob = blobs[blobIndex++];
      if (!blob) throw new CorruptArchiveError("archive is corrupt: missing chunk data");
      bytes = c.method === ChunkMethod.Brotli ? brotliExact(blob, c.rawLength) : blob;
    }
    if (bytes.length !== c.rawLength || crc32(bytes) !== c.crc32) {
      throw new CorruptArchiveError(
        c.method === ChunkMethod.Llm
          ? `chunk ${i + 1} of ${header.chunks.length} fails its checksum${describeDecoding(header, c.stream)}: the model's predictions differ from the compressor's (other model build, backend or CPU kernels, or settings edited in the header) or the archive is damaged`
          : `chunk ${i + 1} of ${header.chunks.length} fails its checksum: the archive is damaged`,
      );
    }
    pieces.push(bytes);
    offset += bytes.length;
  });
  const out = pieces.length === 1 ? Buffer.from((pieces[0] as Uint8Array).buffer, (pieces[0] as Uint8Array).byteOffset, offset) : Buffer.concat(pieces, offset);
  if (offset !== header.originalLength || crc32(out) !== header.originalCrc32) {
    throw new CorruptArchiveError("archive is corrupt: the output fails the original's checksum");
  }
  return { data: out, header };
}
