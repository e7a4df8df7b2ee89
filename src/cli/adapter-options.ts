/**
 * The adapter flags of compress, decompress and bench, and how they become
 * library options:
 *   --adapter PATH[:SCALE]   (repeatable) adapters mixed into every chunk
 *   --adapter auto           per chunk, the best of: no adapter, each adapter
 *                            in --adapters-dir / $LLMZIP_ADAPTERS, each other --adapter
 *   --adapters-dir DIR       (repeatable) where auto (compress) and the
 *                            fingerprint search (decompress) look
 *   --trial-tokens N         tokens per chunk trial-coded by auto
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_TRIAL_TOKENS, type AdapterChoice } from "../codec/adapter-choice.js";
import { ADAPTERS_ENV, adapterDirsFromEnv, listAdapterFiles, type AdapterFile } from "../codec/adapter-files.js";
import type { AdapterSpec } from "../codec/options.js";
import { ModelError, UsageError } from "../errors.js";
import { parsePositiveInt } from "./options.js";

/** One --adapter value: a file with an optional scale, or the word `auto`. */
export type AdapterArg = AdapterFile | "auto";

export interface AdapterFlags {
  adapter?: AdapterArg[];
  adaptersDir?: string[];
  trialTokens?: number;
}

const SCALE = /^(.+):([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/** Parses one --adapter value (PATH, PATH:SCALE or auto) onto the list of earlier ones. */
export function parseAdapter(value: string, previous: AdapterArg[] = []): AdapterArg[] {
  if (value === "auto") return [...previous, "auto"];
  const m = SCALE.exec(value);
  // A file whose name itself ends in ":<number>" is still a file.
  if (!m || fs.existsSync(value)) {
    if (!value) throw new UsageError("--adapter needs a path");
    return [...previous, { path: value }];
  }
  const scale = Number(m[2]);
  if (!Number.isFinite(scale)) throw new UsageError(`bad adapter scale in '${value}'`);
  return [...previous, { path: m[1] as string, scale }];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds --adapter and --adapters-dir (and, where adapters are chosen, --trial-tokens). */
export function addAdapterOptions(cmd: Command, use: "choose" | "match"): Command {
  if (use === "choose") {
    return cmd
      .option("--adapter <path[:scale]|auto>", "apply a LoRA adapter (repeatable: they mix; default scale 1); auto: choose per chunk", parseAdapter)
      .option("--adapters-dir <dir>", `candidates for --adapter auto: every .gguf in DIR (repeatable; default $${ADAPTERS_ENV})`, collect)
      .option("--trial-tokens <n>", `tokens per chunk that --adapter auto trial-codes with each candidate (default ${DEFAULT_TRIAL_TOKENS})`, parsePositiveInt("--trial-tokens"));
  }
  return cmd
    .option("--adapter <path[:scale]>", "LoRA adapter the archive needs (repeatable; matched by fingerprint; a scale must match the archive's)", parseAdapter)
    .option("--adapters-dir <dir>", `look for the archive's adapters (by fingerprint) among the .gguf files in DIR (repeatable; default $${ADAPTERS_ENV})`, collect);
}

const files = (args: AdapterArg[]) => args.filter((a): a is AdapterFile => a !== "auto");

/** Library options for compress (and bench): fixed adapters, or an adapter choice for `auto`. */
export function compressAdapterOptions(flags: AdapterFlags, env: NodeJS.ProcessEnv = process.env): { adapters?: AdapterSpec[]; adapterChoice?: AdapterChoice } {
  const args = flags.adapter ?? [];
  const fixed = files(args).map((a) => ({ path: a.path, scale: a.scale ?? 1 }));
  if (!args.includes("auto")) {
    if (flags.adaptersDir) throw new UsageError("--adapters-dir lists the candidates of --adapter auto; add --adapter auto or drop it");
    if (flags.trialTokens !== undefined) throw new UsageError("--trial-tokens goes with --adapter auto");
    return fixed.length ? { adapters: fixed } : {};
  }
  const dirs = flags.adaptersDir ?? adapterDirsFromEnv(env);
  const candidates: AdapterSpec[][] = [[]];
  const seen = new Set<string>();
  for (const a of [...listAdapterFiles(dirs).map((f) => ({ path: f, scale: 1 })), ...fixed]) {
    const key = `${path.resolve(a.path)}:${a.scale}`;
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push([a]);
  }
  if (candidates.length === 1) {
    if (dirs.length === 0) throw new UsageError(`--adapter auto needs candidates: --adapters-dir DIR (or $${ADAPTERS_ENV}), or more --adapter PATH`);
    throw new ModelError(`--adapter auto: no .gguf adapters in ${dirs.join(", ")}`);
  }
  return { adapterChoice: { candidates, trialTokens: flags.trialTokens } };
}

/** Library options for decompress: the adapters given and the folders to search. */
export function decompressAdapterOptions(flags: AdapterFlags, env: NodeJS.ProcessEnv = process.env): { adapters: AdapterFile[]; adaptersDirs: string[] } {
  const args = flags.adapter ?? [];
  if (args.includes("auto")) throw new UsageError("decompress needs no --adapter auto: the archive says which adapters it used (give them with --adapter or --adapters-dir)");
  return { adapters: files(args), adaptersDirs: flags.adaptersDir ?? adapterDirsFromEnv(env) };
}
