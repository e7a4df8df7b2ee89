/** Number formatting shared by the bench table, markdown report and chart. */

export const DASH = "-";

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? DASH : Math.round(n).toLocaleString("en-US");
}

export function fmtFixed(n: number | null | undefined, digits: number): string {
  return n === null || n === undefined || !Number.isFinite(n) ? DASH : n.toFixed(digits);
}

/** Rates with three significant figures at most: the machine's noise is larger than that. */
export function fmtRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  if (n >= 1000) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(3)).toString();
}

/** Bytes per second as B/s, KB/s or MB/s (decimal units). */
export function fmtBytesRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} MB/s`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)} KB/s`;
  return `${n.toPrecision(3)} B/s`;
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return DASH;
  return s >= 10 ? `${s.toFixed(0)} s` : s >= 0.1 ? `${s.toFixed(1)} s` : `${(s * 1000).toFixed(0)} ms`;
}
