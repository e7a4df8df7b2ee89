/**
 * Mutations of real archives: byte damage aimed at one region (header,
 * checksums, streams, blobs), field rewrites aimed at one header field, and
 * truncations. Each can be "forged": the container checksums are recomputed
 * afterwards, so that the damage reaches the layers behind them (field
 * validation, the model, the per-chunk checksums) instead of stopping at the
 * first CRC.
 */
import zlib from "node:zlib";
import { ByteReader, ByteWriter } from "../../src/container/bytes.js";
import { layoutOf, type Field, type Layout } from "./layout.js";

import { rng, type Rng } from "../helpers/rng.js";

export { rng, type Rng };

export const int = (r: Rng, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rng, items: readonly T[]): T => items[int(r, items.length)] as T;
const randomBytes = (r: Rng, n: number) => Uint8Array.from({ length: n }, () => int(r, 256));

export interface Mutant {
  bytes: Uint8Array;
  /** Operator family, for the per-kind counts. */
  kind: string;
  /** What exactly was done, to reproduce a failure by hand. */
  detail: string;
}

function splice(bytes: Uint8Array, start: number, end: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - (end - start) + insert.length);
  out.set(bytes.subarray(0, start), 0);
  out.set(insert, start);
  out.set(bytes.subarray(end), start + insert.length);
  return out;
}

/**
 * Recomputes the header and payload checksums where the (possibly damaged)
 * framing says they are. Leaves the bytes alone when the framing is unreadable.
 */
export function reChecksum(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  try {
    const r = new ByteReader(out);
    r.pos = 5;
    const len = r.varint();
    const crcAt = r.pos + len;
    if (crcAt + 8 > out.length) return out;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    view.setUint32(crcAt, zlib.crc32(out.subarray(0, crcAt)) >>> 0, true);
    view.setUint32(crcAt + 4, zlib.crc32(out.subarray(crcAt + 8)) >>> 0, true);
  } catch {
    /* unreadable framing: nothing to fix */
  }
  return out;
}

/** Replaces one header field's bytes, fixes the header length and (optionally) the checksums. */
function rewriteField(bytes: Uint8Array, layout: Layout, field: Field, encoded: Uint8Array, forge: boolean): Uint8Array {
  let out = splice(bytes, field.start, field.end, encoded);
  if (field !== layout.headerLengthField && field.start >= layout.header.start && field.end <= layout.header.end) {
    const newLength = layout.header.end - layout.header.start + encoded.length - (field.end - field.start);
    const lf = layout.headerLengthField;
    out = splice(out, lf.start, lf.end, new ByteWriter().varint(newLength).finish());
  }
  return forge ? reChecksum(out) : out;
}

const INTERESTING = [0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 65, 127, 128, 255, 256, 511, 512, 513, 1023, 1024, 2047, 2048, 2049, 4096, 65535, 65536, 2 ** 20, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1];

/** A new encoding for a field: an interesting value of its kind, or a malformed encoding. */
function newEncoding(r: Rng, field: Field, old: Uint8Array): { bytes: Uint8Array; what: string } {
  const oldValue = field.kind === "varint" ? new ByteReader(old).varint() : 0;
  switch (field.kind) {
    case "varint": {
      const roll = r();
      if (roll < 0.08) return { bytes: Uint8Array.from([...old.subarray(0, -1), (old[old.length - 1] as number) | 0x80, 0x00]), what: "overlong" };
      if (roll < 0.14) return { bytes: Uint8Array.from([0x80, 0x80, 0x80]), what: "unterminated" };
      if (roll < 0.18) return { bytes: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), what: "too long" };
      const v = roll < 0.5 ? Math.max(0, oldValue + pick(r, [-2, -1, 1, 2, 100])) : pick(r, INTERESTING);
      return { bytes: new ByteWriter().varint(v).finish(), what: `${oldValue} -> ${v}` };
    }
    case "u8": {
      const v = pick(r, [0, 1, 2, 3, 4, 30, 32, 0x7f, 0x80, 0xfe, 0xff, ((old[0] ?? 0) + 1) & 0xff]);
      return { bytes: Uint8Array.of(v), what: `${old[0]} -> ${v}` };
    }
    case "u32": {
      const v = pick(r, [0, 1, 0xffffffff, 0x80000000, int(r, 2 ** 32)]);
      return { bytes: new ByteWriter().u32(v).finish(), what: `-> ${v}` };
    }
    case "f64": {
      const v = pick(r, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, -1, 0.5, 2, 1e308, 5e-324]);
      return { bytes: new ByteWriter().f64(v).finish(), what: `-> ${v}` };
    }
    case "hash": {
      const b = old.slice();
      b[int(r, 32)] ^= 1 << int(r, 8);
      return { bytes: b, what: "one bit" };
    }
    case "string": {
      const choice = int(r, 6);
      if (choice === 0) return { bytes: new ByteWriter().string("").finish(), what: "empty" };
      if (choice === 1) return { bytes: new ByteWriter().string("x".repeat(pick(r, [300, 5000, 70000]))).finish(), what: "long" };
      if (choice === 2) return { bytes: Uint8Array.from([3, 0xc3, 0x28, 0xff]), what: "invalid UTF-8" };
      if (choice === 3) return { bytes: Uint8Array.from([old[0] === 0 ? 5 : (old[0] as number) + 1, ...old.subarray(1)]), what: "length + 1" };
      if (choice === 4) return { bytes: new ByteWriter().string(pick(r, ["cuda", "vulkan", "f32", "q8_0", "haswell", "other-model", "cpu"])).finish(), what: "other text" };
      return { bytes: old.length > 1 ? Uint8Array.from([(old[0] as number) - 1, ...old.subarray(1, -1)]) : Uint8Array.of(0), what: "length - 1" };
    }
  }
}

/** A byte region of the archive to aim damage at. */
function regions(layout: Layout, length: number): { name: string; start: number; end: number }[] {
  const out = [
    { name: "framing", start: 0, end: layout.header.start },
    { name: "header", start: layout.header.start, end: layout.header.end },
    { name: "checksums", start: layout.headerCrcAt, end: layout.payloadStart },
    { name: "anywhere", start: 0, end: length },
  ];
  layout.parts.forEach((p, i) => {
    if (p.end > p.start) out.push({ name: `${p.kind}${i}`, start: p.start, end: p.end });
  });
  return out;
}

/** One random byte-level mutation aimed at one region. */
function byteMutation(r: Rng, bytes: Uint8Array, layout: Layout): Mutant {
  const region = pick(r, regions(layout, bytes.length));
  const at = region.start + int(r, Math.max(1, region.end - region.start));
  const op = pick(r, ["flip", "set", "truncate", "append", "insert", "delete", "duplicate", "multi-flip", "zero-run"]);
  let out: Uint8Array;
  let detail = `${op}@${region.name}:${at}`;
  switch (op) {
    case "flip":
      out = bytes.slice();
      out[at] ^= 1 << int(r, 8);
      break;
    case "set":
      out = bytes.slice();
      out[at] = pick(r, [0, 1, 0x7f, 0x80, 0xff, int(r, 256)]);
      break;
    case "truncate":
      out = bytes.slice(0, at);
      break;
    case "append":
      out = splice(bytes, bytes.length, bytes.length, randomBytes(r, 1 + int(r, 64)));
      break;
    case "insert":
      out = splice(bytes, at, at, randomBytes(r, 1 + int(r, 16)));
      break;
    case "delete":
      out = splice(bytes, at, Math.min(bytes.length, at + 1 + int(r, 16)), new Uint8Array(0));
      break;
    case "duplicate": {
      const n = 1 + int(r, 32);
      out = splice(bytes, at, at, bytes.slice(at, at + n));
      break;
    }
    case "zero-run":
      out = bytes.slice();
      out.fill(0, at, Math.min(out.length, at + 1 + int(r, 64)));
      break;
    default: {
      out = bytes.slice();
      const n = 2 + int(r, 7);
      for (let k = 0; k < n; k++) out[region.start + int(r, Math.max(1, region.end - region.start))] ^= 1 << int(r, 8);
      detail += `x${n}`;
    }
  }
  const forge = r() < 0.5;
  return { bytes: forge ? reChecksum(out) : out, kind: `bytes/${forge ? "forged" : "plain"}`, detail: `${detail}${forge ? " +crc" : ""}` };
}

/** One header field rewritten to an interesting or malformed value. */
function fieldMutation(r: Rng, bytes: Uint8Array, layout: Layout): Mutant {
  const field = pick(r, layout.fields);
  const old = bytes.subarray(field.start, field.end);
  const enc = newEncoding(r, field, old);
  // Re-checksumming a checksum field would only undo the change.
  const forge = field.name !== "header checksum" && field.name !== "payload checksum" && r() < 0.9;
  return {
    bytes: rewriteField(bytes, layout, field, enc.bytes, forge),
    kind: `field/${field.name}`,
    detail: `${field.name} ${enc.what}${forge ? " +crc" : ""}`,
  };
}

/** A random structural mutation of an intact archive. */
export function mutate(r: Rng, bytes: Uint8Array): Mutant {
  const layout = layoutOf(bytes);
  return r() < 0.5 ? byteMutation(r, bytes, layout) : fieldMutation(r, bytes, layout);
}
