import fs from "node:fs";
import { CancelledError, FileError, UsageError } from "../errors.js";
import { describeFsError, readInput, removePendingTemps, sameFile, writeAtomic } from "../util/fs.js";
import { abortOnSignals, SIGNAL_EXIT } from "../util/signals.js";
import { reportError, type Reporter } from "./output.js";
import { readStdin, writeStdout } from "./stdio.js";

/** The output flags compress and decompress share (gzip/zstd conventions). */
export interface FileJobFlags {
  output?: string;
  stdout?: boolean;
  force?: boolean;
  rm?: boolean;
}

export interface FileJob {
  /** Default output name for an input file, or a UsageError when there is none. */
  outputName(input: string): string;
  /** Turns input bytes into output bytes; must throw rather than return partial data. */
  transform(data: Buffer, label: string, signal: AbortSignal): Promise<Uint8Array>;
}

/** How long a signalled run may take to wind down (a model step, a brotli call) before it is cut short. */
const SIGNAL_GRACE_MS = 3000;

/**
 * Runs a job over files (or stdin to stdout) with atomic outputs. A signal
 * aborts the running job, removes its temporary output and exits 130/143;
 * inputs are removed (--rm) only after their output is complete.
 */
export async function runFileJobs(files: string[], flags: FileJobFlags, job: FileJob, rep: Reporter): Promise<number> {
  const inputs = files.length === 0 ? ["-"] : files;
  if (flags.output && inputs.length > 1) throw new UsageError("-o names one output; it cannot be used with several input files");
  if (flags.output && flags.stdout) throw new UsageError("-o and -c both choose the output; use one");
  if (flags.rm && (flags.stdout || inputs.includes("-"))) {
    if (flags.stdout || inputs.every((i) => i === "-")) throw new UsageError("--rm needs an output file (not standard output)");
  }

  const scope = abortOnSignals({
    // Second signal: leave at once, still without leaving partial files.
    beforeExit: removePendingTemps,
    // Some work cannot be cancelled (brotli on the thread pool, a read from
    // a pipe that stays open). Leaving is safe at any point: outputs are
    // only ever temp files, which are removed, or complete renamed files.
    onFirst: (sig) =>
      setTimeout(() => {
        removePendingTemps();
        process.stderr.write("llmzip: interrupted; the output in progress was not written\n");
        process.exit(SIGNAL_EXIT[sig] ?? 1);
      }, SIGNAL_GRACE_MS).unref(),
  });

  let exitCode = 0;
  try {
    for (const input of inputs) {
      if (scope.received) break;
      try {
        await runOne(input, flags, job, scope.signal, rep);
      } catch (err) {
        if (scope.received || err instanceof CancelledError) {
          removePendingTemps();
          rep.info(`llmzip: interrupted${input === "-" ? "" : ` while processing ${input}`}; nothing was written`);
          return SIGNAL_EXIT[scope.received ?? "SIGINT"] ?? 130;
        }
        exitCode = reportError(err, rep.verbose);
        if (err instanceof UsageError) return exitCode;
      }
    }
  } finally {
    scope.dispose();
  }
  return scope.received ? (SIGNAL_EXIT[scope.received] ?? 130) : exitCode;
}

async function runOne(input: string, flags: FileJobFlags, job: FileJob, signal: AbortSignal, rep: Reporter): Promise<void> {
  const fromStdin = input === "-";
  const toStdout = Boolean(flags.stdout) || (fromStdin && !flags.output);
  const target = toStdout ? undefined : (flags.output ?? job.outputName(input));
  if (fromStdin && process.stdin.isTTY) throw new UsageError("refusing to read data from a terminal; give a file name or pipe data in");
  if (toStdout && process.stdout.isTTY && !flags.force) throw new UsageError("refusing to write binary data to a terminal; use -o FILE, redirect, or -f");
  if (target && !fromStdin && sameFile(input, target)) throw new FileError(`${input}: output would overwrite the input`);
  if (target && !flags.force && fs.existsSync(target)) throw new FileError(`${target}: already exists (use -f to overwrite)`);

  const data = fromStdin ? await readStdin() : readInput(input);
  rep.debug(`${fromStdin ? "stdin" : input}: ${data.length} bytes read`);
  const out = await job.transform(data, fromStdin ? "stdin" : input, signal);
  if (signal.aborted) throw new CancelledError("interrupted");
  if (target) writeAtomic(target, out, { force: Boolean(flags.force) });
  else await writeStdout(out);

  if (flags.rm && !fromStdin && target) {
    try {
      fs.rmSync(input);
    } catch (e) {
      throw new FileError(`${input}: output written, but the input could not be removed: ${describeFsError(e)}`);
    }
    rep.debug(`removed ${input}`);
  }
}
