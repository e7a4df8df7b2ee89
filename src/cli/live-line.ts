/**
 * The one live status line of the CLI, for codec and bench progress and for
 * downloads alike: redrawn in place (ora) when stderr is a terminal, a plain
 * line every few seconds with -v, nothing in pipes otherwise. The text comes
 * from the pure formatters in progress-text.ts.
 */
import ora, { type Ora } from "ora";
import type { DownloadProgress } from "../models/download.js";
import { downloadLine, progressLine, type ProgressStep } from "./progress-text.js";

/** Redraws of the live line at most this often: a download reports every network read. */
const LIVE_INTERVAL_MS = 100;
/** Plain lines (-v without a terminal) at most this often. */
const PLAIN_INTERVAL_MS = 2000;

/**
 * True when a live (redrawn) line can go to stderr: a terminal that reports
 * a width. ora loops forever clearing lines on a terminal of width 0 (e.g.
 * under `script` without a size), so such terminals get no live line.
 */
export function canAnimate(quiet: boolean): boolean {
  return !quiet && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0;
}

export class LiveLine {
  private spinner: Ora | undefined;
  private readonly started = performance.now();
  private lastDraw = 0;
  private phase = "";
  private phaseStart = performance.now();

  constructor(
    private readonly label: string,
    private readonly opts: { quiet: boolean; verbose: boolean },
  ) {
    if (canAnimate(opts.quiet)) this.spinner = ora({ stream: process.stderr, text: label }).start();
  }

  /** Seconds since the line started. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** A codec or bench step; rates and ETAs restart with each phase. */
  progress(p: ProgressStep): void {
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = performance.now();
    }
    this.draw(() => progressLine(this.label, p, (performance.now() - this.phaseStart) / 1000), false);
  }

  /** A download; the finished state is always drawn. */
  download(p: DownloadProgress): void {
    this.draw(() => downloadLine(this.label, p, this.elapsed()), p.done === p.total);
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private draw(text: () => string, force: boolean): void {
    const now = performance.now();
    if (!this.spinner && !(this.opts.verbose && !this.opts.quiet)) return;
    if (now - this.lastDraw < (this.spinner ? LIVE_INTERVAL_MS : PLAIN_INTERVAL_MS) && !force) return;
    this.lastDraw = now;
    if (this.spinner) this.spinner.text = text();
    else process.stderr.write(`${text()}\n`);
  }
}
