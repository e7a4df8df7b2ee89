/** Number formatting shared by the bench table, markdown report and chart. */
import type { BenchReport, LossyResult } from "./report.js";
import { groupDigits } from "../util/bytes.js";

export const DASH = "-";

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? DASH : groupDigits(Math.round(n));
}

export function fmtFixed(n: number | null | undefined, digits: number): string {
  return n === null || n === undefined || !Number.isFinite(n) ? DASH : n.toFixed(digits);
}

/** Rates with three significant figures at most: the machine's noise is larger than that. */
export function fmtRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  if (n >= 1000) return groupDigits(Math.round(n));
  return Number(n.toPrecision(3)).toString();
}

/** Bytes per second as B/s, KB/s or MB/s (decimal units). */
export function fmtBytesRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} MB/s`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)} KB/s`;
  return `${n.toPrecision(3)} B/s`;
}

/** A signed percentage with enough digits for a 1% gate (a comparison with a saved report). */
export function fmtDelta(p: number | undefined | null): string {
  if (p === undefined || p === null) return "-";
  if (!Number.isFinite(p)) return "+inf%";
  return `${p > 0 ? "+" : ""}${p.toFixed(2)}%`;
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return DASH;
  return s >= 10 ? `${s.toFixed(0)} s` : s >= 0.1 ? `${s.toFixed(1)} s` : `${(s * 1000).toFixed(0)} ms`;
}

/**
 * The lossy measures as rows of strings, one per file and the totals, for
 * the terminal table and the markdown report alike; undefined when the run
 * was not lossy.
 */
export function lossyRows(report: BenchReport): { head: string[]; rows: string[][] } | undefined {
  if (!report.settings.lossy) return undefined;
  const row = (file: string, bytes: number, l: LossyResult | undefined): string[] => [
    file,
    fmtInt(bytes),
    fmtInt(l?.rewriteBytes),
    fmtInt(l && l.compressedBits / 8),
    fmtFixed(l?.bitsAlone, 1),
    fmtFixed(l?.bitsGivenRewrite, 1),
    fmtFixed(l?.informationBits, 1),
    fmtFixed(l?.bitsPerRewriteToken, 2),
    fmtFixed(l?.informationPerCompressedBit, 3),
  ];
  return {
    head: ["file", "original", "rewrite", "archive", "bits alone", "given rewrite", "information", "per rewrite token", "per archive bit"],
    rows: [...report.files.map((f) => row(f.file, f.bytes, f.llmzip.lossy)), row("total", report.totals.bytes, report.totals.llmzip.lossy)],
  };
}
