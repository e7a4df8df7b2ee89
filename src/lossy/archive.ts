/**
 * What makes an archive lossy: header mode "lossy" and a few `meta`
 * entries naming the rewriter, the prompt and the original (docs/FORMAT.md).
 * The payload is an ordinary archive of the rewrite.
 */
import type { ArchiveHeader } from "../container/format.js";
import { CorruptArchiveError } from "../errors.js";
import { hex, sha256 } from "../util/bytes.js";

export const META_REWRITER = "lossy.rewriter";
export const META_PROMPT = "lossy.prompt";
export const META_ORIGINAL_BYTES = "lossy.original";
export const META_ORIGINAL_SHA = "lossy.sha256";
export const META_SECTIONS = "lossy.sections";
/** Hex digits of sha256 kept in the header: 64 bits tell files apart, and each byte counts in a lossy archive. */
export const HASH_HEX_DIGITS = 16;

/** The lossy facts of an archive, as `info` shows them. */
export interface LossyInfo {
  originalBytes: number;
  /** The decompressed output: the rewrite. */
  rewriteBytes: number;
  rewriter: string;
  /** First 64 bits of the prompt's sha256, hex. */
  promptSha256: string;
  /** First 64 bits of the original's sha256, hex. */
  originalSha256: string;
  sections: number;
}

export function shortSha256(data: Uint8Array | string): string {
  return hex(sha256(data)).slice(0, HASH_HEX_DIGITS);
}

/** The header label that makes an archive of a rewrite a lossy archive of the original: compress writes it once. */
export function lossyLabel(info: Omit<LossyInfo, "rewriteBytes">): Pick<ArchiveHeader, "mode" | "meta"> {
  return {
    mode: "lossy",
    meta: {
      [META_REWRITER]: info.rewriter,
      [META_PROMPT]: info.promptSha256,
      [META_ORIGINAL_BYTES]: String(info.originalBytes),
      [META_ORIGINAL_SHA]: info.originalSha256,
      [META_SECTIONS]: String(info.sections),
    },
  };
}

const count = (v: string | undefined, what: string): number => {
  if (v === undefined || !/^\d+$/.test(v)) throw new CorruptArchiveError(`lossy archive is corrupt (${what})`);
  return Number(v);
};

/** The lossy facts of a header, or undefined for a lossless archive. */
export function lossyInfo(header: { mode: string; meta: Record<string, string>; originalLength: number }): LossyInfo | undefined {
  if (header.mode !== "lossy") return undefined;
  const m = header.meta;
  return {
    originalBytes: count(m[META_ORIGINAL_BYTES], "original size"),
    rewriteBytes: header.originalLength,
    rewriter: m[META_REWRITER] ?? "unknown",
    promptSha256: m[META_PROMPT] ?? "",
    originalSha256: m[META_ORIGINAL_SHA] ?? "",
    sections: count(m[META_SECTIONS] ?? "0", "section count"),
  };
}

/** True for the meta keys this module owns (info renders them itself). */
export const isLossyMetaKey = (key: string): boolean => key.startsWith("lossy.");
