import { LlmzipError } from "../errors.js";

/** Where the CLI writes human-facing messages; tests may swap it. */
export interface Reporter {
  quiet: boolean;
  verbose: boolean;
  /** Informational line on stderr (suppressed by -q). */
  info(line: string): void;
  /** Warning on stderr (always shown). */
  warn(line: string): void;
  /** Debug detail on stderr (only with -v). */
  debug(line: string): void;
}

export function makeReporter(opts: { quiet?: boolean; verbose?: boolean }): Reporter {
  const quiet = Boolean(opts.quiet);
  const verbose = Boolean(opts.verbose) && !quiet;
  return {
    quiet,
    verbose,
    info: (line) => {
      if (!quiet) process.stderr.write(`${line}\n`);
    },
    warn: (line) => process.stderr.write(`llmzip: warning: ${line}\n`),
    debug: (line) => {
      if (verbose) process.stderr.write(`${line}\n`);
    },
  };
}

/**
 * Prints an error the way every command does: one line, `llmzip: ...`, and
 * the stack only with -v. Returns the exit code to use.
 */
export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof LlmzipError) {
    process.stderr.write(`llmzip: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  const msg = e && typeof e.message === "string" ? e.message.split("\n")[0] : String(err);
  process.stderr.write(`llmzip: internal error: ${msg}${verbose ? "" : " (run with -v for details)"}\n`);
  if (verbose && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}
