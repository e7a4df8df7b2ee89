import { Option, type Command } from "commander";
import { UsageError } from "../errors.js";
import { GPU_MODES } from "../engine/engine.js";

export function parsePositiveInt(name: string, max = 1 << 20) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${name} must be a whole number from 1 to ${max} (got '${value}')`);
    return n;
  };
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option("-o, --output <file>", "write to this file (one input only)")
    .option("-c, --stdout", "write to standard output")
    .option("-f, --force", "overwrite existing output files")
    .option("--rm", "remove each input once its output is written and verified")
    .option("-q, --quiet", "print nothing but errors")
    .option("-v, --verbose", "print details, and stack traces on errors");
}

/** A command over files or stdin (compress, decompress), with the output and engine options they share. */
export function addFileCommand(program: Command, name: string, alias: string, description: string, files: string): Command {
  const cmd = program.command(name).alias(alias).description(description).argument("[files...]", files);
  return addEngineOptions(addOutputOptions(cmd));
}

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option("-m, --model <model>", "GGUF model: PATH, NAME ('llmzip models list') or hf:USER/REPO/FILE.gguf (default: $LLMZIP_MODEL, then 'llmzip models default', then the shipped llmzip-en)")
    .addOption(threadsOption());
}

/** --threads, with the one default every command uses (engine.ts's defaultThreads). */
export function threadsOption(): Option {
  return new Option("--threads <n>", "llama.cpp threads (default: one per idle core, one for models under 4M parameters; never changes the output)").argParser(parsePositiveInt("--threads", 1024));
}

export function gpuOption(description = "where the model runs"): Option {
  return new Option("--gpu <mode>", description).choices(GPU_MODES).default("auto");
}
