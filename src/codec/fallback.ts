import zlib from "node:zlib";
import { CorruptArchiveError } from "../errors.js";

const maxParams = (data: Uint8Array): zlib.BrotliOptions => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
  },
});

/** brotli at its strongest setting, the same as `brotli -q 11` (window 2^24). */
export function brotliMax(data: Uint8Array): Buffer {
  return zlib.brotliCompressSync(data, maxParams(data));
}

/** {@link brotliMax} on libuv's thread pool, leaving the event loop free (the same bytes). */
export function brotliMaxAsync(data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.brotliCompress(data, maxParams(data), (err, out) => (err ? reject(err) : resolve(out))));
}

/** Decompresses a brotli blob that must expand to exactly `expected` bytes. */
export function brotliExact(blob: Uint8Array, expected: number): Buffer {
  let out: Buffer;
  try {
    out = zlib.brotliDecompressSync(blob, { maxOutputLength: Math.max(1, expected) });
  } catch {
    throw new CorruptArchiveError("archive is corrupt: a brotli chunk does not decompress");
  }
  if (out.length !== expected) throw new CorruptArchiveError("archive is corrupt: a brotli chunk has the wrong length");
  return out;
}
