/**
 * The text of progress lines, as pure functions of what happened and how
 * long it took (so that tests can pin them): codec and bench phases, and
 * downloads. {@link LiveLine} draws them.
 */
import type { Progress } from "../codec/options.js";
import type { DownloadProgress } from "../models/download.js";
import { formatBytes } from "../util/bytes.js";

/** m:ss or h:mm:ss; "--:--" when unknown. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** A text bar `████░░░░` for a fraction from 0 to 1. */
export function bar(frac: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, frac)) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** A codec phase, or another named stage of a command (bench's "eval"); unit "" shows no rate. */
export type ProgressStep = Omit<Progress, "phase"> & { phase: string; unit?: string };

/** One line of progress: bar, percent, rate and ETA. */
export function progressLine(label: string, p: ProgressStep, elapsedSeconds: number, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const unit = p.unit ?? (p.phase === "analyse" ? "B" : "tok");
  const rate = elapsedSeconds > 0 ? p.done / elapsedSeconds : 0;
  const eta = rate > 0 ? (p.total - p.done) / rate : Number.NaN;
  // The first updates of a phase come within milliseconds: a rate from them means nothing.
  const speed = unit && elapsedSeconds >= 0.5 ? ` ${rate.toFixed(0)} ${unit}/s ETA ${clock(eta)}` : "";
  return `${label} ${p.phase} ${bar(frac, width)} ${(frac * 100).toFixed(0).padStart(3)}%${speed}`;
}

/**
 * `name ████░░ 42% 61.0 MB / 145.0 MB 12.3 MB/s ETA 0:07`. The speed counts
 * only bytes moved in this run (resumed bytes were already there).
 */
export function downloadLine(label: string, p: DownloadProgress, elapsedSeconds: number, width = 24): string {
  const moved = p.done - p.resumedFrom;
  const speed = elapsedSeconds > 0 ? moved / elapsedSeconds : 0;
  const size = p.total !== undefined ? `${formatBytes(p.done)} / ${formatBytes(p.total)}` : formatBytes(p.done);
  const speedText = `${formatBytes(Math.round(speed))}/s`;
  if (p.total === undefined || p.total === 0) return `${label} ${size} ${speedText}`;
  const frac = p.done / p.total;
  const eta = speed > 0 ? (p.total - p.done) / speed : Number.NaN;
  return `${label} ${bar(frac, width)} ${(frac * 100).toFixed(0).padStart(3)}% ${size} ${speedText} ETA ${clock(eta)}`;
}
