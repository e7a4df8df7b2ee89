/**
 * The .llmz container: magic, version, a checksummed header (model identity,
 * every logit-affecting setting, chunk table) and the payload (range-coded
 * streams, then fallback blobs). Pure data: no model is involved here.
 * The byte layout is documented in docs/FORMAT.md.
 */
import { CorruptArchiveError, UnsupportedFormatError } from "../errors.js";
import { crc32 } from "../util/bytes.js";
import { ByteReader, ByteWriter } from "./bytes.js";

export const MAGIC = Uint8Array.from([0x4c, 0x4c, 0x4d, 0x5a]); // "LLMZ"
export const FORMAT_VERSION = 2;
/** The llmzip releases that read each older format, for the message that sends a user there. */
const OLDER_FORMATS: Record<number, string> = { 1: "0.1.x" };

export enum ChunkMethod {
  Llm = 0,
  Brotli = 1,
  Raw = 2,
}

/** Archive modes, in the order of their byte in the header (never reorder). */
export const ARCHIVE_MODES = ["lossless", "lossy"] as const;
export type ArchiveMode = (typeof ARCHIVE_MODES)[number];

export interface ModelRef {
  name: string;
  size: number;
  sha256: Uint8Array;
}

export interface AdapterRef {
  name: string;
  size: number;
  sha256: Uint8Array;
  scale: number;
}

/**
 * Everything that changes the model's logits or the tables; the decoder must
 * use exactly these. The container stores them; which values llmzip codes
 * and decodes is the codec's contract (codec/settings.ts).
 */
export interface CodingSettings {
  /** The most lanes any stream runs. */
  lanes: number;
  /** KV cells per lane: the window each lane codes its span through. */
  ctx: number;
  /** Tokens refed as context at the start of every window after a lane's first (0 = none). */
  carry: number;
  vocabSize: number;
  startToken: number;
  backend: string;
  cpuVariant: string;
  flashAttention: boolean;
  kvType: string;
  freqBits: number;
  /** 0 = off; otherwise the id of the context-mixing configuration. */
  mixer: number;
}

/** One range-coded stream: the model-coded chunks of one lane run, cut into `lanes` spans. */
export interface LlmStream {
  adapterSet: number;
  codedLength: number;
  /** Spans (one per lane) its tokens are cut into; see docs/FORMAT.md. */
  lanes: number;
}

export interface ChunkEntry {
  method: ChunkMethod;
  /** Bytes of the original this chunk covers. */
  rawLength: number;
  crc32: number;
  /** Llm only: the stream that codes it. */
  stream: number;
  /** Llm only: tokens in the chunk (its part of its stream's token sequence). */
  tokenCount: number;
  /** Brotli/Raw only: length of its blob. */
  codedLength: number;
}

export interface ArchiveHeader {
  mode: ArchiveMode;
  originalLength: number;
  originalCrc32: number;
  /** Present exactly when some chunk is Llm (then settings too). */
  model?: ModelRef;
  settings?: CodingSettings;
  adapterSets: AdapterRef[][];
  streams: LlmStream[];
  chunks: ChunkEntry[];
  /** Small extensions (e.g. the lossy mode's rewriter); written sorted by key. */
  meta: Record<string, string>;
}

export interface ArchiveBody {
  streams: Uint8Array[];
  /** One per non-Llm chunk, in chunk order. */
  blobs: Uint8Array[];
}

const FLAG_MODEL = 1;
const FLAG_COMPACT = 2; // a single non-model chunk covering the input: no table
const FLAG_COMPACT_RAW = 4;
const KNOWN_FLAGS = FLAG_MODEL | FLAG_COMPACT | FLAG_COMPACT_RAW;

const corrupt = (what: string) => new CorruptArchiveError(`archive is corrupt (${what})`);

function isCompact(h: ArchiveHeader): boolean {
  const only = h.chunks[0];
  return !h.model && h.chunks.length === 1 && only !== undefined && only.method !== ChunkMethod.Llm && Object.keys(h.meta).length === 0 && h.adapterSets.length === 0 && h.streams.length === 0;
}

function writeHeader(h: ArchiveHeader): Uint8Array {
  const w = new ByteWriter();
  w.u8(ARCHIVE_MODES.indexOf(h.mode)).varint(h.originalLength).u32(h.originalCrc32);
  const compact = isCompact(h);
  const only = h.chunks[0];
  let flags = h.model ? FLAG_MODEL : 0;
  if (compact) flags |= FLAG_COMPACT | (only?.method === ChunkMethod.Raw ? FLAG_COMPACT_RAW : 0);
  w.varint(flags);
  if (compact) return w.finish();
  if (h.model && h.settings) {
    const s = h.settings;
    w.string(h.model.name).varint(h.model.size).bytes(h.model.sha256);
    w.varint(s.lanes).varint(s.ctx).varint(s.carry).varint(s.vocabSize).varint(s.startToken).string(s.backend).string(s.cpuVariant);
    w.u8(s.flashAttention ? 1 : 0).string(s.kvType).u8(s.freqBits).varint(s.mixer);
  }
  w.varint(h.adapterSets.length);
  for (const set of h.adapterSets) {
    w.varint(set.length);
    for (const a of set) w.string(a.name).varint(a.size).bytes(a.sha256).f64(a.scale);
  }
  w.varint(h.streams.length);
  for (const s of h.streams) w.varint(s.adapterSet).varint(s.codedLength).varint(s.lanes);
  w.varint(h.chunks.length);
  for (const c of h.chunks) {
    w.u8(c.method).varint(c.rawLength).u32(c.crc32);
    if (c.method === ChunkMethod.Llm) w.varint(c.stream).varint(c.tokenCount);
    else w.varint(c.codedLength);
  }
  const keys = Object.keys(h.meta).sort();
  w.varint(keys.length);
  for (const k of keys) w.string(k).string(h.meta[k] as string);
  return w.finish();
}

function checkHash(b: Uint8Array, what: string): Uint8Array {
  if (b.length !== 32) throw new RangeError(`${what} sha256 must be 32 bytes`);
  return b;
}

/** Serialises an archive. Throws RangeError on a header that parse would reject. */
export function serializeArchive(header: ArchiveHeader, body: ArchiveBody): Uint8Array {
  if (header.model) checkHash(header.model.sha256, "model");
  for (const set of header.adapterSets) for (const a of set) checkHash(a.sha256, "adapter");
  const headerBytes = writeHeader(header);
  const payloadParts = [...body.streams, ...body.blobs];
  const payloadLength = payloadParts.reduce((n, p) => n + p.length, 0);
  const pre = new ByteWriter().bytes(MAGIC).u8(FORMAT_VERSION).varint(headerBytes.length).bytes(headerBytes).finish();
  const out = new Uint8Array(pre.length + 8 + payloadLength);
  out.set(pre, 0);
  const view = new DataView(out.buffer);
  view.setUint32(pre.length, crc32(pre), true);
  let off = pre.length + 8;
  for (const p of payloadParts) {
    out.set(p, off);
    off += p.length;
  }
  view.setUint32(pre.length + 4, crc32(out.subarray(pre.length + 8)), true);
  // Parsing what we wrote catches an inconsistent header before it reaches a disk.
  parseArchive(out);
  return out;
}

function readSettings(r: ByteReader): { model: ModelRef; settings: CodingSettings } {
  const model: ModelRef = { name: r.string("model name"), size: r.varint("model size"), sha256: r.bytes(32, "model fingerprint").slice() };
  const settings: CodingSettings = {
    lanes: r.varint("lanes"),
    ctx: r.varint("context size", 1 << 20),
    carry: r.varint("carried context", 1 << 20),
    vocabSize: r.varint("vocabulary size", 1 << 24),
    startToken: r.varint("start token", 1 << 24),
    backend: r.string("backend", 64),
    cpuVariant: r.string("CPU variant", 64),
    flashAttention: r.u8("flash attention") === 1,
    kvType: r.string("KV type", 64),
    freqBits: r.u8("table precision"),
    mixer: r.varint("mixer", 1 << 16),
  };
  if (settings.lanes < 1 || settings.ctx < 1 || settings.vocabSize < 1) throw corrupt("zero lanes, context or vocabulary");
  if (settings.carry > settings.ctx - 2) throw corrupt("carried context does not fit the context");
  if (settings.startToken >= settings.vocabSize) throw corrupt("start token outside the vocabulary");
  return { model, settings };
}

/** Reads magic, version and the header; checks the header's CRC. */
export function parseHeader(bytes: Uint8Array): { header: ArchiveHeader; headerEnd: number } {
  const r = new ByteReader(bytes);
  if (bytes.length < MAGIC.length || MAGIC.some((m, i) => bytes[i] !== m)) throw new CorruptArchiveError("not an llmzip archive");
  r.pos = MAGIC.length;
  // The framing (magic, version, header length, header, CRC) is the same in
  // every format version, so damage is told apart from a newer format: a
  // flipped version byte fails the CRC instead of asking for an upgrade.
  const version = r.u8("version");
  const headerLength = r.varint("header length", r.remaining);
  const headerStart = r.pos;
  r.bytes(headerLength, "header");
  const stored = r.u32("header checksum");
  if (crc32(bytes.subarray(0, headerStart + headerLength)) !== stored) throw new CorruptArchiveError("archive is corrupt (header checksum mismatch)");
  if (version > FORMAT_VERSION) throw new UnsupportedFormatError(`archive format ${version} is newer than this llmzip reads (${FORMAT_VERSION}); upgrade llmzip`);
  const older = OLDER_FORMATS[version];
  if (older) throw new UnsupportedFormatError(`archive format ${version} was written by llmzip ${older}, which is needed to read it (this llmzip reads format ${FORMAT_VERSION})`);
  if (version !== FORMAT_VERSION) throw corrupt(`format version ${version}`);

  const h = new ByteReader(bytes, headerStart + headerLength);
  h.pos = headerStart;
  const mode = ARCHIVE_MODES[h.u8("mode")];
  if (!mode) throw corrupt("unknown mode");
  const header: ArchiveHeader = { mode, originalLength: h.varint("original length"), originalCrc32: h.u32("checksum"), adapterSets: [], streams: [], chunks: [], meta: {} };
  const flags = h.varint("flags");
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new UnsupportedFormatError("archive uses features this llmzip does not know; upgrade llmzip");
  if (flags & FLAG_COMPACT) {
    if (flags & FLAG_MODEL) throw corrupt("compact archive with a model");
    header.chunks.push({
      method: flags & FLAG_COMPACT_RAW ? ChunkMethod.Raw : ChunkMethod.Brotli,
      rawLength: header.originalLength,
      crc32: header.originalCrc32,
      stream: 0,
      tokenCount: 0,
      codedLength: -1, // the whole payload; fixed up by parseArchive
    });
  } else {
    if (flags & FLAG_COMPACT_RAW) throw corrupt("flags");
    if (flags & FLAG_MODEL) Object.assign(header, readSettings(h));
    const nSets = h.count("adapter sets");
    for (let i = 0; i < nSets; i++) {
      const n = h.count("adapters");
      const set: AdapterRef[] = [];
      for (let k = 0; k < n; k++) set.push({ name: h.string("adapter name"), size: h.varint("adapter size"), sha256: h.bytes(32, "adapter fingerprint").slice(), scale: h.f64("adapter scale") });
      for (const a of set) if (!Number.isFinite(a.scale)) throw corrupt("adapter scale");
      header.adapterSets.push(set);
    }
    const nStreams = h.count("streams");
    for (let i = 0; i < nStreams; i++) {
      const s = { adapterSet: h.varint("adapter set"), codedLength: h.varint("stream length"), lanes: h.varint("stream lanes", 1024) };
      if (s.adapterSet >= Math.max(1, nSets)) throw corrupt("stream names a missing adapter set");
      if (s.lanes < 1 || (header.settings && s.lanes > header.settings.lanes)) throw corrupt("stream lanes");
      header.streams.push(s);
    }
    const nChunks = h.count("chunks");
    let sum = 0;
    for (let i = 0; i < nChunks; i++) {
      const method = h.u8("chunk method");
      if (method > ChunkMethod.Raw) throw corrupt("unknown chunk method");
      const c: ChunkEntry = { method, rawLength: h.varint("chunk length"), crc32: h.u32("chunk checksum"), stream: 0, tokenCount: 0, codedLength: 0 };
      if (method === ChunkMethod.Llm) {
        c.stream = h.varint("chunk stream");
        c.tokenCount = h.varint("token count");
        if (c.stream >= nStreams) throw corrupt("chunk names a missing stream");
        if (c.tokenCount < 1 || c.rawLength < 1) throw corrupt("empty model chunk");
        // Every token the tokenizer emits stands for at least one byte, but
        // a SentencePiece vocabulary may spend one more on the leading space.
        if (c.tokenCount > c.rawLength + 1) throw corrupt("more tokens than bytes in a model chunk");
      } else {
        c.codedLength = h.varint("chunk size");
      }
      sum += c.rawLength;
      header.chunks.push(c);
    }
    if (sum !== header.originalLength) throw corrupt("chunk lengths do not add up to the original length");
    const nMeta = h.count("metadata");
    for (let i = 0; i < nMeta; i++) {
      const k = h.string("metadata key", 256);
      header.meta[k] = h.string("metadata value", 1 << 16);
    }
    const hasLlm = header.chunks.some((c) => c.method === ChunkMethod.Llm);
    if (hasLlm !== Boolean(header.model)) throw corrupt(hasLlm ? "model chunks without a model" : "a model but no model chunks");
    if (!hasLlm && (nStreams > 0 || nSets > 0)) throw corrupt("streams without model chunks");
  }
  if (h.remaining !== 0) throw corrupt("unexpected bytes at the end of the header");
  return { header, headerEnd: r.pos };
}

/** Parses and fully validates an archive: header, payload checksum and every length. */
export function parseArchive(bytes: Uint8Array): { header: ArchiveHeader; body: ArchiveBody } {
  const { header, headerEnd } = parseHeader(bytes);
  const r = new ByteReader(bytes);
  r.pos = headerEnd;
  const payloadCrc = r.u32("payload checksum");
  const payload = bytes.subarray(r.pos);
  const compact = header.chunks.length === 1 && header.chunks[0]?.codedLength === -1;
  if (compact) (header.chunks[0] as ChunkEntry).codedLength = payload.length;
  const expected = header.streams.reduce((n, s) => n + s.codedLength, 0) + header.chunks.reduce((n, c) => n + (c.method === ChunkMethod.Llm ? 0 : c.codedLength), 0);
  if (payload.length < expected) throw new CorruptArchiveError("archive is truncated");
  if (payload.length > expected) throw new CorruptArchiveError("archive is corrupt (unexpected bytes after the data)");
  if (crc32(payload) !== payloadCrc) throw new CorruptArchiveError("archive is corrupt (data checksum mismatch)");
  const body: ArchiveBody = { streams: [], blobs: [] };
  let off = 0;
  for (const s of header.streams) {
    body.streams.push(payload.subarray(off, off + s.codedLength));
    off += s.codedLength;
  }
  for (const c of header.chunks) {
    if (c.method === ChunkMethod.Llm) continue;
    if (c.method === ChunkMethod.Raw && c.codedLength !== c.rawLength) throw corrupt("stored chunk with a wrong size");
    body.blobs.push(payload.subarray(off, off + c.codedLength));
    off += c.codedLength;
  }
  return { header, body };
}
