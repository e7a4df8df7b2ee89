import ora, { type Ora } from "ora";
import type { Progress } from "../codec/options.js";

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** A codec phase, or another named stage of a command (bench's "eval"); unit "" shows no rate. */
export type ProgressStep = Omit<Progress, "phase"> & { phase: string; unit?: string };

/** One line of progress: bar, percent, rate and ETA. Pure, for tests. */
export function progressLine(label: string, p: ProgressStep, elapsedSeconds: number, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  const unit = p.unit ?? (p.phase === "analyse" ? "B" : "tok");
  const rate = elapsedSeconds > 0 ? p.done / elapsedSeconds : 0;
  const eta = rate > 0 ? (p.total - p.done) / rate : Number.NaN;
  // The first updates of a phase come within milliseconds: a rate from them means nothing.
  const speed = unit && elapsedSeconds >= 0.5 ? ` ${rate.toFixed(0)} ${unit}/s ETA ${clock(eta)}` : "";
  return `${label} ${p.phase} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%${speed}`;
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
    if (!opts.quiet && process.stderr.isTTY) this.spinner = ora({ stream: process.stderr, text: label }).start();
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
