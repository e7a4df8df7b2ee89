import ora, { type Ora } from "ora";
import type { DownloadProgress } from "../models/download.js";
import { bar, canAnimate, clock } from "./progress.js";

/** 1.1 MB, 145.0 MB, 1.32 GB (decimal units, as download sites show them). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/**
 * `name ████░░ 42% 61.0 MB / 145.0 MB 12.3 MB/s ETA 0:07`. The speed counts
 * only bytes moved in this run (resumed bytes were already there). Pure, for tests.
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

/**
 * Download progress on stderr: a live line on a terminal, a plain line every
 * few seconds with -v, nothing otherwise.
 */
export class DownloadBar {
  private spinner: Ora | undefined;
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly opts: { quiet: boolean; verbose: boolean },
  ) {
    if (canAnimate(opts.quiet)) this.spinner = ora({ stream: process.stderr, text: label }).start();
  }

  /** Seconds since the bar started. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  update(p: DownloadProgress): void {
    const now = performance.now();
    const interval = this.spinner ? 100 : 2000;
    if (now - this.lastDraw < interval && p.done !== p.total) return;
    this.lastDraw = now;
    const line = downloadLine(this.label, p, this.elapsed());
    if (this.spinner) this.spinner.text = line;
    else if (this.opts.verbose && !this.opts.quiet) process.stderr.write(`${line}\n`);
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
