import ora, { type Ora } from "ora";
import type { Progress } from "../codec/options.js";

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

/** One line of progress: bar, percent, rate and ETA. Pure, for tests. */
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
 * True when a live (redrawn) line can go to stderr: a terminal that reports
 * a width. ora loops forever clearing lines on a terminal of width 0 (e.g.
 * under `script` without a size), so such terminals get no live line.
 */
export function canAnimate(quiet: boolean): boolean {
  return !quiet && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0;
}

/**
 * A progress bar on stderr, only when stderr is a terminal (or when forced
 * with -v, as plain lines). Nothing is printed into pipes otherwise.
 */
export class ProgressBar {
  private spinner: Ora | undefined;
  private phaseStart = performance.now();
  private phase = "";
  private lastLine = 0;

  constructor(
    private readonly label: string,
    private readonly opts: { quiet: boolean; verbose: boolean },
  ) {
    if (canAnimate(opts.quiet)) this.spinner = ora({ stream: process.stderr, text: label }).start();
  }

  update(p: ProgressStep): void {
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = performance.now();
    }
    const line = progressLine(this.label, p, (performance.now() - this.phaseStart) / 1000);
    if (this.spinner) this.spinner.text = line;
    else if (this.opts.verbose && !this.opts.quiet && performance.now() - this.lastLine > 2000) {
      this.lastLine = performance.now();
      process.stderr.write(`${line}\n`);
    }
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
