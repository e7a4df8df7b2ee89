/**
 * Just enough of the GGUF layout (v2/v3, little-endian) for tests to find a
 * file's tensors and make a distinct copy of an adapter without training.
 */
import fs from "node:fs";

export interface GgufTensor {
  name: string;
  dims: number[];
  /** ggml type id (0 = F32, 1 = F16). */
  type: number;
  /** Absolute offset of the tensor's data in the file. */
  offset: number;
}

export interface GgufLayout {
  version: number;
  metadata: Record<string, unknown>;
  tensors: GgufTensor[];
  dataStart: number;
}

const SCALAR_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Parses a GGUF header and tensor table. */
export function readGguf(bytes: Buffer): GgufLayout {
  let pos = 0;
  const u32 = () => {
    const v = bytes.readUInt32LE(pos);
    pos += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(bytes.readBigUInt64LE(pos));
    pos += 8;
    return v;
  };
  const str = () => {
    const n = u64();
    const s = bytes.toString("utf8", pos, pos + n);
    pos += n;
    return s;
  };
  const value = (type: number): unknown => {
    if (type === 8) return str();
    if (type === 9) {
      const inner = u32();
      const n = u64();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(value(inner));
      return out;
    }
    const size = SCALAR_SIZES[type];
    if (size === undefined) throw new Error(`GGUF value type ${type}`);
    let v: unknown;
    if (type === 6) v = bytes.readFloatLE(pos);
    else if (type === 12) v = bytes.readDoubleLE(pos);
    else if (size === 8) v = Number(bytes.readBigUInt64LE(pos));
    else v = bytes.readUIntLE(pos, size);
    pos += size;
    return v;
  };
  if (bytes.toString("latin1", 0, 4) !== "GGUF") throw new Error("not a GGUF file");
  pos = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < nKv; i++) {
    const key = str();
    metadata[key] = value(u32());
  }
  const infos: { name: string; dims: number[]; type: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(u64());
    infos.push({ name, dims, type: u32(), rel: u64() });
  }
  const align = typeof metadata["general.alignment"] === "number" ? (metadata["general.alignment"] as number) : 32;
  const dataStart = Math.ceil(pos / align) * align;
  return { version, metadata, tensors: infos.map((t) => ({ name: t.name, dims: t.dims, type: t.type, offset: dataStart + t.rel })), dataStart };
}

/**
 * Writes a copy of an F32 GGUF adapter whose tensors are scaled element by
 * element by a deterministic factor in [0.5, 1.5): same shapes, same
 * metadata, other weights, so another fingerprint and other logits.
 */
export function writePerturbedAdapter(source: string, target: string, seed = 1): void {
  const bytes = Buffer.from(fs.readFileSync(source));
  const layout = readGguf(bytes);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  for (const t of layout.tensors) {
    if (t.type !== 0) throw new Error(`tensor ${t.name} is not F32 (type ${t.type})`);
    const n = t.dims.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      const at = t.offset + 4 * i;
      bytes.writeFloatLE(bytes.readFloatLE(at) * (0.5 + next()), at);
    }
  }
  fs.writeFileSync(target, bytes);
}
