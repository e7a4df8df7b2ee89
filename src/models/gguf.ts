/**
 * Reads what `models list`, `models add` and the chat models need from a
 * GGUF header, without loading the model.
 *
 * Why not node-llama-cpp's `readGgufFileInfo` (already a dependency)? Measured
 * here (2-core machine, busy): importing node-llama-cpp takes ~700 ms before
 * the first read, then 60-70 ms for stories260K and 270-310 ms for synth58M-Q8_0
 * (with tensor info, which the parameter count needs); this reader takes
 * ~5 ms to import and 5-15 ms / 60-75 ms for the same files, synchronously.
 * It also takes only a local path (node-llama-cpp's reader also fetches URLs),
 * so it can never touch the network: `models list` stays fast and offline.
 */
import fs from "node:fs";
import { ModelError } from "../errors.js";

/** What `llmzip models list` shows about a GGUF file, read from its header without loading the model. */
export interface GgufInfo {
  /** GGUF format version (2 or 3). */
  version: number;
  /** `general.architecture` (llama, qwen2, gemma3, rwkv6...). */
  architecture: string;
  /** `general.name`, when the file has one. */
  name?: string;
  /** `general.type`: "model", or "adapter" for LoRA files; absent in older files (a model). */
  type?: string;
  /** Sum of the element counts of all tensors. */
  parameters: number;
  /** Length of `tokenizer.ggml.tokens`, else `<arch>.vocab_size`; 0 when neither exists. */
  vocabSize: number;
  /** `<arch>.context_length` (training context); 0 when absent. */
  contextLength: number;
  /** `general.file_type` (llama.cpp's ftype number: 0 F32, 1 F16, 7 Q8_0, 15 Q4_K_M...), when present. */
  fileType?: number;
  tensorCount: number;
  /** Scalar and short string metadata (long strings and arrays are left out; arrays appear as their length). */
  metadata: Record<string, string | number | boolean | bigint | { arrayOf: number; length: number }>;
}

/** GGUF value types (gguf.h). */
const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, Bool: 7, Str: 8, Arr: 9, U64: 10, I64: 11, F64: 12 } as const;

const FIXED_SIZE: Partial<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Sanity limits: generous for real models, small enough that a corrupt header cannot make us allocate or loop much. */
const MAX_KEY = 1 << 16;
const MAX_KEPT_STRING = 1 << 16;
const MAX_STRING = 1 << 26;
const MAX_DIMS = 8;
const MAX_NESTING = 4;
const CHUNK = 1 << 20;

class CorruptGguf extends Error {}

/**
 * Sequential little-endian reader over a file descriptor with a bounded
 * buffer: every length read from the file is checked against the bytes that
 * remain before anything is allocated or skipped.
 */
class FileCursor {
  private buf: Buffer;
  private start = 0; // file offset of buf[0]
  private len = 0; // valid bytes in buf
  pos = 0; // absolute file offset of the next byte

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {
    this.buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 16)));
  }

  remaining(): number {
    return this.size - this.pos;
  }

  private ensure(n: number, what: string): void {
    if (n > this.remaining()) throw new CorruptGguf(`${what} runs past the end of the file`);
    if (this.pos >= this.start && this.pos + n <= this.start + this.len) return;
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    this.start = this.pos;
    this.len = 0;
    const want = Math.min(this.buf.length, this.size - this.pos);
    while (this.len < want) {
      const got = fs.readSync(this.fd, this.buf, this.len, want - this.len, this.start + this.len);
      if (got === 0) break;
      this.len += got;
    }
    if (this.len < n) throw new CorruptGguf(`${what} runs past the end of the file`);
  }

  private at(n: number, what: string): number {
    this.ensure(n, what);
    const off = this.pos - this.start;
    this.pos += n;
    return off;
  }

  u32(what: string): number {
    return this.buf.readUInt32LE(this.at(4, what));
  }

  u64(what: string): bigint {
    return this.buf.readBigUInt64LE(this.at(8, what));
  }

  /** A u64 that must be a count or length no larger than `max`. */
  count(what: string, max: number): number {
    const v = this.u64(what);
    if (v > BigInt(Math.floor(max))) throw new CorruptGguf(`${what} ${v} is implausibly large`);
    return Number(v);
  }

  bytes(n: number, what: string): Buffer {
    const off = this.at(n, what);
    return this.buf.subarray(off, off + n);
  }

  skip(n: number, what: string): void {
    if (n > this.remaining()) throw new CorruptGguf(`${what} runs past the end of the file`);
    this.pos += n;
  }

  /** A GGUF string; returns undefined (and skips it) when longer than `keep`. */
  string(what: string, keep: number): string | undefined {
    const n = this.count(`${what} length`, Math.min(MAX_STRING, this.remaining()));
    if (n > keep) {
      this.skip(n, what);
      return undefined;
    }
    return this.bytes(n, what).toString("utf8");
  }

  scalar(type: number, what: string): number | bigint | boolean {
    const size = FIXED_SIZE[type];
    if (size === undefined) throw new CorruptGguf(`${what} has unknown type ${type}`);
    const off = this.at(size, what);
    const b = this.buf;
    switch (type) {
      case T.U8:
        return b.readUInt8(off);
      case T.I8:
        return b.readInt8(off);
      case T.U16:
        return b.readUInt16LE(off);
      case T.I16:
        return b.readInt16LE(off);
      case T.U32:
        return b.readUInt32LE(off);
      case T.I32:
        return b.readInt32LE(off);
      case T.F32:
        return b.readFloatLE(off);
      case T.Bool:
        return b.readUInt8(off) !== 0;
      case T.U64:
        return b.readBigUInt64LE(off);
      case T.I64:
        return b.readBigInt64LE(off);
      default:
        return b.readDoubleLE(off);
    }
  }
}

type Value = GgufInfo["metadata"][string] | undefined;

function readValue(c: FileCursor, type: number, what: string, depth: number): Value {
  if (type === T.Str) return c.string(what, MAX_KEPT_STRING);
  if (type === T.Arr) {
    if (depth >= MAX_NESTING) throw new CorruptGguf(`${what} nests arrays too deeply`);
    const elem = c.u32(`${what} element type`);
    const length = c.count(`${what} length`, c.remaining());
    const size = FIXED_SIZE[elem];
    if (size !== undefined) {
      if (length * size > c.remaining()) throw new CorruptGguf(`${what} runs past the end of the file`);
      c.skip(length * size, what);
    } else if (elem === T.Str || elem === T.Arr) {
      // Each element is at least its 8-byte length: bounds the loop by the file size.
      if (length * 8 > c.remaining()) throw new CorruptGguf(`${what} runs past the end of the file`);
      for (let i = 0; i < length; i++) {
        if (elem === T.Str) c.skip(c.count(`${what} element length`, c.remaining()), what);
        else readValue(c, T.Arr, what, depth + 1);
      }
    } else {
      throw new CorruptGguf(`${what} has unknown element type ${elem}`);
    }
    return { arrayOf: elem, length };
  }
  return c.scalar(type, what);
}

function asNumber(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

function describeOpenError(file: string, e: unknown): ModelError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return new ModelError(`model file not found: ${file}`);
  if (code === "EISDIR") return new ModelError(`${file}: is a directory, not a GGUF model file`);
  if (code === "EACCES" || code === "EPERM") return new ModelError(`${file}: permission denied`);
  return new ModelError(`${file}: cannot read: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * Reads a GGUF file's metadata and tensor table (not the weights): fast
 * (a few MB at most, even for 150k-token vocabularies) and safe on corrupt
 * or hostile files. Throws {@link ModelError} when the file is not a GGUF
 * model this reader understands.
 */
export function readGgufInfo(file: string): GgufInfo {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw describeOpenError(file, e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ModelError(`${file}: not a regular file`);
    return parse(new FileCursor(fd, st.size));
  } catch (e) {
    if (e instanceof CorruptGguf) throw new ModelError(`${file}: not a valid GGUF model file (${e.message})`);
    if (e instanceof ModelError) throw e;
    throw describeOpenError(file, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the file starts with the GGUF magic (a quick check for downloads that returned an error page). */
export function hasGgufMagic(file: string): boolean {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const b = Buffer.alloc(4);
      return fs.readSync(fd, b, 0, 4, 0) === 4 && b.toString("latin1") === "GGUF";
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

function parse(c: FileCursor): GgufInfo {
  if (c.size < 4 || c.bytes(4, "magic").toString("latin1") !== "GGUF") throw new CorruptGguf("no GGUF magic at the start");
  const version = c.u32("version");
  if (version === 1) throw new CorruptGguf("GGUF version 1 is obsolete; convert the model again with a current llama.cpp");
  if (version !== 2 && version !== 3) {
    const swapped = Buffer.alloc(4);
    swapped.writeUInt32BE(version);
    const be = swapped.readUInt32LE();
    throw new CorruptGguf(be === 2 || be === 3 ? "big-endian GGUF files are not supported" : `unknown GGUF version ${version}`);
  }
  // Every tensor entry and key/value pair takes at least 8 bytes: counts above size/8 are corrupt.
  const tensorCount = c.count("tensor count", c.remaining() / 8);
  const kvCount = c.count("metadata count", c.remaining() / 8);
  const metadata: GgufInfo["metadata"] = {};
  for (let i = 0; i < kvCount; i++) {
    const key = c.string("metadata key", MAX_KEY);
    if (key === undefined) throw new CorruptGguf("metadata key is implausibly long");
    const type = c.u32(`type of ${key}`);
    const value = readValue(c, type, key, 0);
    if (value !== undefined) metadata[key] = value;
  }
  let parameters = 0;
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string("tensor name", MAX_KEY);
    if (name === undefined) throw new CorruptGguf("tensor name is implausibly long");
    const dims = c.u32(`dimensions of ${name}`);
    if (dims < 1 || dims > MAX_DIMS) throw new CorruptGguf(`tensor ${name} has ${dims} dimensions`);
    let elements = 1;
    for (let d = 0; d < dims; d++) elements *= Number(c.u64(`shape of ${name}`));
    c.u32(`type of ${name}`);
    c.u64(`offset of ${name}`);
    parameters += elements;
  }
  if (!Number.isSafeInteger(parameters)) throw new CorruptGguf("tensor shapes add up to an implausible parameter count");

  const architecture = typeof metadata["general.architecture"] === "string" ? metadata["general.architecture"] : "";
  if (!architecture) throw new CorruptGguf("general.architecture is missing");
  const tokens = metadata["tokenizer.ggml.tokens"];
  const vocabSize = (typeof tokens === "object" && tokens !== null ? tokens.length : undefined) ?? asNumber(metadata[`${architecture}.vocab_size`]) ?? 0;
  const name = metadata["general.name"];
  const type = metadata["general.type"];
  return {
    version,
    architecture,
    name: typeof name === "string" && name ? name : undefined,
    type: typeof type === "string" && type ? type : undefined,
    parameters,
    vocabSize,
    contextLength: asNumber(metadata[`${architecture}.context_length`]) ?? 0,
    fileType: asNumber(metadata["general.file_type"]),
    tensorCount,
    metadata,
  };
}
