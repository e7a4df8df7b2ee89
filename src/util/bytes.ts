/**
 * Byte helpers with no policy: checksums, hex, equality and the ways sizes
 * and counts are written for people. Every room imports these instead of
 * writing its own.
 */
import { createHash } from "node:crypto";
import zlib from "node:zlib";

/** CRC-32 (zlib's polynomial) as an unsigned 32-bit number. */
export function crc32(data: Uint8Array): number {
  return zlib.crc32(data) >>> 0;
}

/** sha256 of bytes (or of a string's UTF-8). */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash("sha256").update(data).digest();
}

/** Lowercase hex of the bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** The first `digits` hex digits and an ellipsis, as messages name a fingerprint: `659643879ac6…`. */
export function shortHex(bytes: Uint8Array, digits = 12): string {
  return `${hex(bytes).slice(0, digits)}…`;
}

/** True when both hold the same bytes (memcmp, not a JS loop: outputs can be tens of megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** 12345 -> "12,345"; with `digits`, exactly that many decimals: (1234.5, 1) -> "1,234.5". */
export function groupDigits(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** 1.1 MB, 145.0 MB, 1.32 GB (decimal units, as download sites show them). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Always in MB with one decimal (0.4 MB, 62.4 MB), so that two model sizes in one message compare at a glance. */
export function formatMegabytes(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** A size known only roughly (a catalog estimate): 145 MB, 4.68 GB. */
export function formatApproxBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${Math.round(n / 1e6)} MB`;
}
