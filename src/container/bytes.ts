import { CorruptArchiveError } from "../errors.js";

const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** Growable little-endian byte writer with LEB128 varints. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }

  f64(v: number): this {
    this.reserve(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, true);
    this.len += 8;
    return this;
  }

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    let x = v;
    while (x >= 0x80) {
      this.u8((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    return this.u8(x);
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.varint(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Bounds-checked reader: every overrun is a CorruptArchiveError, never a crash or a huge allocation. */
export class ByteReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly end: number = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw new CorruptArchiveError(`archive is truncated or corrupt (${what} runs past the end)`);
  }

  u8(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u32(what = "number"): number {
    this.need(4, what);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what = "number"): number {
    this.need(8, what);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  varint(what = "number", max = MAX_VARINT): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new CorruptArchiveError(`archive is corrupt (overlong ${what})`);
        if (v > max) throw new CorruptArchiveError(`archive is corrupt (${what} ${v} is out of range)`);
        return v;
      }
      scale *= 0x80;
    }
    throw new CorruptArchiveError(`archive is corrupt (${what} is not a valid number)`);
  }

  /** A count of items each taking at least one byte: bounded by what is left. */
  count(what: string): number {
    return this.varint(what, this.remaining);
  }

  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(what = "text", maxBytes = 4096): string {
    const n = this.varint(what, maxBytes);
    const b = this.bytes(n, what);
    const s = Buffer.from(b).toString("utf8");
    if (Buffer.byteLength(s) !== n) throw new CorruptArchiveError(`archive is corrupt (${what} is not valid UTF-8)`);
    return s;
  }
}
