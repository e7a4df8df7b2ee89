import { Command, CommanderError } from "commander";
import { UsageError } from "../errors.js";
import { describeFsError } from "../util/fs.js";
import { reportError } from "./output.js";
import { VERSION } from "../version.js";

/** Each command lives in its own module and adds itself to the program. */
type Registrar = (program: Command) => void;

async function loadCommands(): Promise<Registrar[]> {
  const modules = await Promise.all([
    // One line per command module; keep the order of `llmzip --help`.
    import("./compress.js"),
    import("./decompress.js"),
    import("./info.js"),
    import("./bench.js"),
    import("./models.js"),
    import("./qa.js"),
  ]);
  return modules.map((m: { register: Registrar }) => m.register);
}

/** Runs the CLI with the given argv and resolves to the process exit code. */
/**
 * A reader that went away (`llmzip d -c x.llmz | head`) is not an error
 * worth a stack trace: leave quietly with the shell's SIGPIPE status, as
 * cat and gzip do. Nothing partial is left on disk: stdout has no temp file.
 */
function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(141);
    // A full disk or another write error: one line, not a crash with a stack trace.
    process.stderr.write(`llmzip: cannot write to standard output: ${describeFsError(err)}\n`);
    process.exit(1);
  });
}

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnBrokenPipe();
  const verbose = argv.includes("-v") || argv.includes("--verbose");
  const program = new Command();
  program
    .name("llmzip")
    .description("Compress text with a local language model and arithmetic coding.")
    .version(VERSION, "--version", "print the version")
    .showHelpAfterError("(run llmzip --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith("error:") ? `llmzip: ${s}` : s) });
  for (const register of await loadCommands()) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`llmzip: ${err.message}\n`);
      return 2;
    }
    return reportError(err, verbose);
  }
}
