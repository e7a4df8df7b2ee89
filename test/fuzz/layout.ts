/**
 * Where every field of an intact archive lies, byte for byte, so that the
 * fuzzer can aim at one field (and re-checksum what it changed). This walks
 * the layout of docs/FORMAT.md independently of src/container/format.ts on
 * purpose: a bug in the parser must not hide the field it mishandles.
 */
import { ByteReader } from "../../src/container/bytes.js";

export type FieldKind = "u8" | "u32" | "f64" | "varint" | "string" | "hash";

export interface Field {
  name: string;
  kind: FieldKind;
  start: number;
  end: number;
}

export interface Layout {
  /** Every field from the magic to the payload checksum, in order. */
  fields: Field[];
  headerLengthField: Field;
  /** [start, end) of the header bytes covered by the header checksum (after magic, version and length). */
  header: { start: number; end: number };
  headerCrcAt: number;
  payloadCrcAt: number;
  payloadStart: number;
  /** Payload parts: the streams, then the blobs, each [start, end). */
  parts: { kind: "stream" | "blob"; start: number; end: number }[];
}

const LLM = 0;
const FLAG_MODEL = 1;
const FLAG_COMPACT = 2;

/** Maps an archive that parseArchive accepts. */
export function layoutOf(bytes: Uint8Array): Layout {
  const fields: Field[] = [];
  const r = new ByteReader(bytes);
  const take = <T>(name: string, kind: FieldKind, read: () => T): T => {
    const start = r.pos;
    const v = read();
    fields.push({ name, kind, start, end: r.pos });
    return v;
  };
  const varint = (name: string) => take(name, "varint", () => r.varint());
  const str = (name: string) => take(name, "string", () => r.string(name, 1 << 16));
  const hash = (name: string) => take(name, "hash", () => r.bytes(32));
  const u8 = (name: string) => take(name, "u8", () => r.u8());
  const u32 = (name: string) => take(name, "u32", () => r.u32());

  take("magic", "u32", () => r.u32());
  u8("version");
  const headerLength = varint("header length");
  const headerLengthField = fields[fields.length - 1] as Field;
  const headerStart = r.pos;
  u8("mode");
  varint("original length");
  u32("original checksum");
  const flags = varint("flags");
  const streamLengths: number[] = [];
  const blobLengths: number[] = [];
  if (flags & FLAG_COMPACT) {
    blobLengths.push(-1);
  } else {
    if (flags & FLAG_MODEL) {
      str("model name");
      varint("model size");
      hash("model sha256");
      for (const f of ["lanes", "ctx", "carry", "vocab size", "start token"]) varint(f);
      str("backend");
      str("cpu variant");
      u8("flash attention");
      str("kv type");
      u8("table precision");
      varint("mixer");
    }
    const sets = varint("adapter set count");
    for (let i = 0; i < sets; i++) {
      const n = varint("adapter count");
      for (let k = 0; k < n; k++) {
        str("adapter name");
        varint("adapter size");
        hash("adapter sha256");
        take("adapter scale", "f64", () => r.f64());
      }
    }
    const streams = varint("stream count");
    for (let i = 0; i < streams; i++) {
      varint("stream adapter set");
      streamLengths.push(varint("stream length"));
      varint("stream lanes");
    }
    const chunks = varint("chunk count");
    for (let i = 0; i < chunks; i++) {
      const method = u8("chunk method");
      varint("chunk length");
      u32("chunk checksum");
      if (method === LLM) {
        varint("chunk stream");
        varint("chunk tokens");
      } else {
        blobLengths.push(varint("chunk size"));
      }
    }
    const meta = varint("metadata count");
    for (let i = 0; i < meta; i++) {
      str("metadata key");
      str("metadata value");
    }
  }
  if (r.pos !== headerStart + headerLength) throw new Error(`layout: header walk ended at ${r.pos}, expected ${headerStart + headerLength}`);
  const headerCrcAt = r.pos;
  u32("header checksum");
  const payloadCrcAt = r.pos;
  u32("payload checksum");
  const payloadStart = r.pos;
  const parts: Layout["parts"] = [];
  let off = payloadStart;
  for (const n of streamLengths) {
    parts.push({ kind: "stream", start: off, end: off + n });
    off += n;
  }
  for (const n of blobLengths) {
    const len = n < 0 ? bytes.length - off : n;
    parts.push({ kind: "blob", start: off, end: off + len });
    off += len;
  }
  return { fields, headerLengthField, header: { start: headerStart, end: headerStart + headerLength }, headerCrcAt, payloadCrcAt, payloadStart, parts };
}
