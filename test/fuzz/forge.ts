/**
 * Deliberate forgeries: a parsed header edited the way a person (or a buggy
 * tool) might, re-serialised with serializeArchive so that every checksum of
 * the container is fresh. These get past the CRCs by construction and test
 * what the decoder checks behind them: settings, limits, the model's
 * predictions and the per-chunk checksums.
 */
import { brotliMax } from "../../src/codec/fallback.js";
import { ChunkMethod, parseArchive, serializeArchive, type ArchiveBody, type ArchiveHeader } from "../../src/container/format.js";
import { int, pick, type Mutant, type Rng } from "./mutate.js";

type Edit = (h: ArchiveHeader, b: ArchiveBody, r: Rng) => string | undefined;

/** Re-serialises an archive after `edit` changed its parsed header and body (throws where the writer refuses). */
export function reserialize(archive: Uint8Array, edit: (h: ArchiveHeader, b: ArchiveBody) => void): Uint8Array {
  const { header, body } = parseArchive(archive);
  const h = structuredClone(header);
  const b: ArchiveBody = { streams: body.streams.map((s) => s.slice()), blobs: body.blobs.map((s) => s.slice()) };
  edit(h, b);
  return serializeArchive(h, b);
}

const llmChunks = (h: ArchiveHeader) => h.chunks.map((c, i) => ({ c, i })).filter(({ c }) => c.method === ChunkMethod.Llm);
const flipByte = (b: Uint8Array, r: Rng) => {
  const out = b.slice();
  if (out.length) out[int(r, out.length)] ^= 1 << int(r, 8);
  return out;
};

const EDITS: Record<string, Edit> = {
  lanes: (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    s.lanes = pick(r, [1, Math.max(1, s.lanes - 1), s.lanes + 1, s.lanes * 2, 256, 257, 1024]);
    // Streams run at most the recorded lanes (the container checks that); forge them along.
    for (const st of h.streams) st.lanes = Math.min(st.lanes, s.lanes);
    return `lanes ${s.lanes}`;
  },
  "stream lanes": (h, _b, r) => {
    const s = h.settings;
    const st = h.streams.length ? h.streams[int(r, h.streams.length)] : undefined;
    if (!s || !st) return undefined;
    st.lanes = pick(r, [1, Math.max(1, st.lanes - 1), Math.min(s.lanes, st.lanes + 1), s.lanes]);
    return `stream lanes ${st.lanes}`;
  },
  carry: (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    s.carry = pick(r, [0, 1, Math.max(0, s.carry - 1), s.carry + 1, s.ctx - 2]);
    return `carry ${s.carry}`;
  },
  ctx: (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    const most = Math.max(...llmChunks(h).map(({ c }) => c.tokenCount));
    s.ctx = pick(r, [1, 2, most - 1, most, most + 1, s.ctx - 1, s.ctx + 1, 2048, 2049, 4096, 2 ** 20]);
    s.carry = Math.min(s.carry, Math.max(0, s.ctx - 2));
    return `ctx ${s.ctx}`;
  },
  tokens: (h, _b, r) => {
    const list = llmChunks(h);
    if (!list.length || !h.settings) return undefined;
    const { c, i } = pick(r, list);
    c.tokenCount = Math.max(1, pick(r, [c.tokenCount - 1, c.tokenCount + 1, c.tokenCount * 2, h.settings.ctx, h.settings.ctx + 1, 2 ** 24]));
    return `chunk ${i} tokens ${c.tokenCount}`;
  },
  "token split": (h, _b, r) => {
    const list = llmChunks(h);
    if (list.length < 2) return undefined;
    const a = pick(r, list).c;
    const b = pick(r, list.filter(({ c }) => c !== a && c.stream === a.stream)).c;
    if (!b || a.tokenCount < 2) return undefined;
    a.tokenCount--;
    b.tokenCount++;
    return "one token moved between chunks";
  },
  "start token": (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    s.startToken = pick(r, [0, 2, s.vocabSize - 1]);
    return `start ${s.startToken}`;
  },
  vocabulary: (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    s.vocabSize = pick(r, [s.vocabSize - 1, s.vocabSize + 1, 32000]);
    return `vocab ${s.vocabSize}`;
  },
  "coder settings": (h, _b, r) => {
    const s = h.settings;
    if (!s) return undefined;
    const which = int(r, 5);
    if (which === 0) s.freqBits = 30;
    else if (which === 1) s.mixer = 1 + int(r, 5);
    else if (which === 2) s.kvType = pick(r, ["f32", "q8_0", "bf16", "x"]);
    else if (which === 3) s.flashAttention = !s.flashAttention;
    else s.cpuVariant = pick(r, ["haswell", "", "sandybridge"]);
    return `coder setting ${which}`;
  },
  backend: (h, _b, r) => {
    if (!h.settings) return undefined;
    h.settings.backend = pick(r, ["cuda", "vulkan", "metal", ""]);
    return `backend ${h.settings.backend}`;
  },
  "model identity": (h, _b, r) => {
    const m = h.model;
    if (!m) return undefined;
    const which = int(r, 3);
    if (which === 0) m.sha256 = flipByte(m.sha256, r);
    else if (which === 1) m.size += pick(r, [-1, 1]);
    else m.name = "another model";
    return `model field ${which}`;
  },
  adapters: (h, _b, r) => {
    const set = h.adapterSets[0];
    if (!set) return undefined;
    const a = set[0];
    const which = a ? int(r, 4) : 3;
    if (a && which === 0) a.scale = pick(r, [0, 0.25, 0.5, 1, 2, -1]);
    else if (a && which === 1) a.sha256 = flipByte(a.sha256, r);
    else if (a && which === 2) set.length = 0;
    else set.push({ name: "unknown.gguf", size: 1234, sha256: new Uint8Array(32).fill(7), scale: 1 });
    return `adapter edit ${which}`;
  },
  "chunk checksum": (h, _b, r) => {
    const c = pick(r, h.chunks);
    if (!c) return undefined;
    c.crc32 = (c.crc32 ^ (1 << int(r, 32))) >>> 0;
    return "chunk crc";
  },
  "original checksum": (h, _b, r) => {
    h.originalCrc32 = (h.originalCrc32 ^ (1 << int(r, 32))) >>> 0;
    return "original crc";
  },
  "chunk boundaries": (h, _b, r) => {
    if (h.chunks.length < 2) return undefined;
    const i = int(r, h.chunks.length - 1);
    const a = h.chunks[i];
    const b = h.chunks[i + 1];
    if (!a || !b) return undefined;
    const k = 1 + int(r, 3);
    if (a.rawLength <= k) return undefined;
    a.rawLength -= k;
    b.rawLength += k;
    return `${k} bytes moved from chunk ${i}`;
  },
  "chunk order": (h, _b, r) => {
    if (h.chunks.length < 2) return undefined;
    const i = int(r, h.chunks.length);
    const j = int(r, h.chunks.length);
    if (i === j) return undefined;
    [h.chunks[i], h.chunks[j]] = [h.chunks[j]!, h.chunks[i]!];
    return `chunks ${i} and ${j} swapped`;
  },
  "stream bytes": (h, b, r) => {
    const s = int(r, b.streams.length);
    const bytes = b.streams[s];
    const entry = h.streams[s];
    if (!bytes || !entry) return undefined;
    const which = int(r, 4);
    let next: Uint8Array;
    if (which === 0) next = bytes.subarray(0, int(r, bytes.length));
    else if (which === 1) next = Uint8Array.from([...bytes, ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256))]);
    else if (which === 2) next = flipByte(bytes, r);
    else next = Uint8Array.from(bytes, () => int(r, 256));
    b.streams[s] = next;
    entry.codedLength = next.length;
    return `stream ${s} edit ${which}`;
  },
  "stream swap": (h, b) => {
    if (b.streams.length < 2) return undefined;
    b.streams.reverse();
    h.streams.reverse();
    return "streams swapped";
  },
  "chunk stream": (h, _b, r) => {
    const list = llmChunks(h);
    if (!list.length || h.streams.length < 2) return undefined;
    const { c } = pick(r, list);
    c.stream = (c.stream + 1) % h.streams.length;
    return "chunk moved to another stream";
  },
  "blob bytes": (h, b, r) => {
    const k = int(r, b.blobs.length);
    const blob = b.blobs[k];
    const chunk = h.chunks.filter((c) => c.method !== ChunkMethod.Llm)[k];
    if (!blob || !chunk) return undefined;
    const other = chunk.method === ChunkMethod.Brotli ? brotliMax(Uint8Array.from({ length: chunk.rawLength }, () => int(r, 4))) : flipByte(blob, r);
    b.blobs[k] = other;
    chunk.codedLength = other.length;
    return `blob ${k} replaced`;
  },
  mode: (h) => {
    h.mode = h.mode === "lossless" ? "lossy" : "lossless";
    return `mode ${h.mode}`;
  },
  metadata: (h, _b, r) => {
    h.meta[pick(r, ["lossy.rewriter", "x", ""])] = pick(r, ["", "y", "\u00e9"]);
    return "metadata added";
  },
};

export const FORGERY_KINDS = Object.keys(EDITS);

/** One forgery of `archive`, or undefined when the edit does not apply or the writer refuses it. */
export function forge(r: Rng, archive: Uint8Array): Mutant | undefined {
  const kind = pick(r, FORGERY_KINDS);
  let detail: string | undefined;
  try {
    const bytes = reserialize(archive, (h, b) => {
      detail = EDITS[kind]?.(h, b, r);
      if (detail === undefined) throw new Error("not applicable");
    });
    return { bytes, kind: `forged/${kind}`, detail: detail ?? kind };
  } catch {
    return undefined;
  }
}
