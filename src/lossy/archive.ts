/**
 * What makes an archive lossy: header mode "lossy" and a few `meta`
 * entries naming the method (a rewrite, or pruning with its KEEP and
 * policy), and the original (docs/FORMAT.md). The payload is an ordinary
 * archive of the rewrite or of the kept text.
 */
import type { ArchiveHeader } from "../container/format.js";
import { CorruptArchiveError } from "../errors.js";
import { hex, sha256 } from "../util/bytes.js";

export const META_REWRITER = "lossy.rewriter";
export const META_PROMPT = "lossy.prompt";
export const META_ORIGINAL_BYTES = "lossy.original";
export const META_ORIGINAL_SHA = "lossy.sha256";
export const META_SECTIONS = "lossy.sections";
export const META_METHOD = "lossy.method";
export const META_KEEP = "lossy.keep";
export const META_POLICY = "lossy.policy";
/** How the lossy text was made: a chat model's rewrite, or the original with its most predictable words dropped. */
export type LossyMethod = "rewrite" | "prune";
/** Hex digits of sha256 kept in the header: 64 bits tell files apart, and each byte counts in a lossy archive. */
export const HASH_HEX_DIGITS = 16;

/** The lossy facts of an archive, as `info` shows them. */
export interface LossyInfo {
  /** Archives written before pruning existed have no method entry: they are rewrites. */
  method: LossyMethod;
  originalBytes: number;
  /** The decompressed output: the rewrite (or the kept text). */
  rewriteBytes: number;
  /** Empty for pruning. */
  rewriter: string;
  /** First 64 bits of the prompt's sha256, hex. */
  promptSha256: string;
  /** First 64 bits of the original's sha256, hex. */
  originalSha256: string;
  sections: number;
  /** Pruning: the share of tokens asked to be kept. */
  keep?: number;
  /** Pruning: how words were ranked (lossy/prune.ts). */
  policy?: string;
}

export function shortSha256(data: Uint8Array | string): string {
  return hex(sha256(data)).slice(0, HASH_HEX_DIGITS);
}

/** The header label that makes an archive of a rewrite a lossy archive of the original: compress writes it once. */
export function lossyLabel(info: Omit<LossyInfo, "rewriteBytes">): Pick<ArchiveHeader, "mode" | "meta"> {
  if (info.method === "prune") {
    return {
      mode: "lossy",
      meta: {
        [META_METHOD]: "prune",
        [META_KEEP]: String(info.keep ?? ""),
        [META_POLICY]: info.policy ?? "",
        [META_ORIGINAL_BYTES]: String(info.originalBytes),
        [META_ORIGINAL_SHA]: info.originalSha256,
      },
    };
  }
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
  const method = m[META_METHOD] ?? "rewrite";
  if (method !== "rewrite" && method !== "prune") throw new CorruptArchiveError(`lossy archive names an unknown method "${method}" (made by a newer llmzip?)`);
  if (method === "prune") {
    const keep = Number(m[META_KEEP]);
    if (!/^0?\.\d+$/.test(m[META_KEEP] ?? "") || !(keep > 0 && keep < 1)) throw new CorruptArchiveError("lossy archive is corrupt (keep)");
    return {
      method,
      originalBytes: count(m[META_ORIGINAL_BYTES], "original size"),
      rewriteBytes: header.originalLength,
      rewriter: "",
      promptSha256: "",
      originalSha256: m[META_ORIGINAL_SHA] ?? "",
      sections: 0,
      keep,
      policy: m[META_POLICY] ?? "unknown",
    };
  }
  return {
    method,
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
