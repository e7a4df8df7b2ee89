import { ChunkMethod, parseArchive, type ArchiveHeader } from "../container/format.js";
import { hex } from "../util/bytes.js";

/** A plain-data description of an archive, as `llmzip info --json` prints it. */
export interface ArchiveSummary {
  formatVersion: number;
  mode: string;
  originalBytes: number;
  compressedBytes: number;
  bitsPerByte: number;
  model: { name: string; size: number; sha256: string } | null;
  settings: ArchiveHeader["settings"] | null;
  adapterSets: { name: string; size: number; sha256: string; scale: number }[][];
  chunks: { total: number; model: number; brotli: number; raw: number };
  /** Adapter set of each model-coded chunk, in chunk order. */
  chunkAdapterSets: number[];
  /** Every chunk in input order: how it is coded and, for model chunks, with which adapter set. */
  chunkTable: ChunkSummary[];
  meta: Record<string, string>;
}

export interface ChunkSummary {
  method: "model" | "brotli" | "stored";
  /** Bytes of the original it covers. */
  bytes: number;
  /** Model chunks: tokens, stream, and the index into `adapterSets` (null otherwise). */
  tokens: number | null;
  stream: number | null;
  adapterSet: number | null;
}

const METHOD_NAMES: Record<ChunkMethod, ChunkSummary["method"]> = { [ChunkMethod.Llm]: "model", [ChunkMethod.Brotli]: "brotli", [ChunkMethod.Raw]: "stored" };

/** Reads and validates a whole archive (checksums included) and summarises it. */
export function inspectArchive(archive: Uint8Array, formatVersion: number): ArchiveSummary {
  const { header } = parseArchive(archive);
  const count = (m: ChunkMethod) => header.chunks.filter((c) => c.method === m).length;
  return {
    formatVersion,
    mode: header.mode,
    originalBytes: header.originalLength,
    compressedBytes: archive.length,
    bitsPerByte: header.originalLength > 0 ? (archive.length * 8) / header.originalLength : 0,
    model: header.model ? { name: header.model.name, size: header.model.size, sha256: hex(header.model.sha256) } : null,
    settings: header.settings ?? null,
    adapterSets: header.adapterSets.map((set) => set.map((a) => ({ name: a.name, size: a.size, sha256: hex(a.sha256), scale: a.scale }))),
    chunks: { total: header.chunks.length, model: count(ChunkMethod.Llm), brotli: count(ChunkMethod.Brotli), raw: count(ChunkMethod.Raw) },
    chunkAdapterSets: header.chunks.filter((c) => c.method === ChunkMethod.Llm).map((c) => header.streams[c.stream]?.adapterSet ?? 0),
    chunkTable: header.chunks.map((c) => {
      const llm = c.method === ChunkMethod.Llm;
      return {
        method: METHOD_NAMES[c.method],
        bytes: c.rawLength,
        tokens: llm ? c.tokenCount : null,
        stream: llm ? c.stream : null,
        adapterSet: llm ? (header.streams[c.stream]?.adapterSet ?? 0) : null,
      };
    }),
    meta: header.meta,
  };
}
