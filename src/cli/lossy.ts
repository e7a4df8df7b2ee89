/**
 * compress --lossy: the rewriter and pruning options, opening the rewriter
 * once for all files, and the summary line of a lossy run.
 */
import type { Command } from "commander";
import { openChatModel, type ChatModelSpec } from "../chat/open.js";
import type { ChatModel } from "../chat/types.js";
import { chooseBackend, type GpuMode } from "../engine/engine.js";
import { UsageError } from "../errors.js";
import type { LossyInfo } from "../lossy/archive.js";
import type { ArchiveInformation } from "../lossy/evaluate.js";
import { checkKeep, type LossyCompressResult, type PruneCompressResult } from "../lossy/compress.js";
import { PRUNE_POLICIES, DEFAULT_PRUNE_POLICY, type PrunePolicy } from "../lossy/prune.js";
import { builtInPrompt, promptFromBytes, type RewritePrompt } from "../lossy/prompt.js";
import { readInput } from "../util/fs.js";
import { parsePositiveInt } from "./options.js";
import { groupDigits } from "../util/bytes.js";

export interface LossyFlags {
  lossy?: boolean;
  rewriter?: string;
  rewriterUrl?: string;
  rewriterModel?: string;
  rewritePrompt?: string;
  rewriterTimeout?: number;
  /** --prune KEEP (compress: one; bench: one or more). */
  prune?: number[];
  prunePolicy?: PrunePolicy;
  rm?: boolean;
  threads?: number;
  gpu: GpuMode;
  cpuKernels?: string;
  verbose?: boolean;
}

/** KEEP values: repeated flags and comma-separated lists add up. */
function collectKeep(value: string, previous: number[] = []): number[] {
  const keeps = value.split(",").map((v) => {
    if (!/^\s*(?:0?\.\d+|0|1)\s*$/.test(v)) throw new UsageError(`--prune KEEP is the share of tokens kept, between 0 and 1 exclusive (got '${v}')`);
    return checkKeep(Number(v));
  });
  return [...previous, ...keeps];
}

function parsePolicy(value: string): PrunePolicy {
  const p = PRUNE_POLICIES.find((name) => name === value);
  if (!p) throw new UsageError(`--prune-policy must be one of ${PRUNE_POLICIES.join(", ")} (got '${value}')`);
  return p;
}

export function addLossyOptions(cmd: Command, opts: { manyKeeps?: boolean } = {}): Command {
  return cmd
    .option("--lossy", "rewrite the text succinctly with a chat model (--rewriter*), or prune its most predictable words (--prune), then compress that; decompression gives it back, not the original")
    .option(
      "--prune <keep>",
      opts.manyKeeps
        ? "--lossy: prune to KEEP of the tokens (0 < KEEP < 1) with the coding model alone; repeatable or comma-separated (0.3,0.5,0.7)"
        : "--lossy: drop the words the coding model predicts best until KEEP of the tokens remain (0 < KEEP < 1); needs no rewriter",
      collectKeep,
    )
    .option("--prune-policy <name>", `--prune: how words are ranked: ${PRUNE_POLICIES.join(", ")} (default ${DEFAULT_PRUNE_POLICY}; random and truncate are baselines)`, parsePolicy)
    .option("--rewriter <path>", "--lossy: local instruction GGUF model that rewrites")
    .option("--rewriter-url <url>", "--lossy: OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1); API key from $LLMZIP_API_KEY")
    .option("--rewriter-model <name>", "--lossy: model name to ask the endpoint for")
    .option("--rewrite-prompt <file>", "--lossy: replace the built-in prompt ({{text}} marks where the text goes)")
    .option("--rewriter-timeout <seconds>", "--lossy: per-request endpoint timeout (default 120)", parsePositiveInt("--rewriter-timeout", 86_400));
}

/** The rewriter the flags name, or undefined without --lossy; usage errors for half-given or conflicting flags. */
export function rewriterSpec(flags: LossyFlags): ChatModelSpec | undefined {
  const named = flags.rewriter !== undefined || flags.rewriterUrl !== undefined || flags.rewriterModel !== undefined || flags.rewritePrompt !== undefined || flags.rewriterTimeout !== undefined;
  if (!flags.lossy) {
    if (named) throw new UsageError("the --rewriter* and --rewrite-prompt options need --lossy");
    if (flags.prune !== undefined || flags.prunePolicy !== undefined) throw new UsageError("--prune and --prune-policy need --lossy");
    return undefined;
  }
  if (flags.prune !== undefined && named) throw new UsageError("--prune and --rewriter*/--rewrite-prompt are two lossy methods; use one");
  if (flags.prunePolicy !== undefined && flags.prune === undefined) throw new UsageError("--prune-policy goes with --prune KEEP");
  if (flags.rm) throw new UsageError("--rm with --lossy would delete the only copy of the original: the archive holds a rewrite of it");
  if (flags.prune !== undefined) return undefined;
  if (flags.rewriter && flags.rewriterUrl) throw new UsageError("--rewriter and --rewriter-url both name the rewriter; use one");
  if (flags.rewriterUrl) {
    if (!flags.rewriterModel) throw new UsageError("--rewriter-url needs --rewriter-model NAME (the model the endpoint should use)");
    return { url: flags.rewriterUrl, model: flags.rewriterModel, timeoutMs: flags.rewriterTimeout === undefined ? undefined : flags.rewriterTimeout * 1000 };
  }
  if (flags.rewriterModel || flags.rewriterTimeout !== undefined) throw new UsageError("--rewriter-model and --rewriter-timeout go with --rewriter-url");
  if (!flags.rewriter) throw new UsageError("--lossy needs a method: --prune KEEP (the coding model alone), --rewriter PATH (local GGUF) or --rewriter-url URL --rewriter-model NAME");
  // The rewriter shares the process's llama.cpp libraries with the coding engine: same backend and CPU kernels.
  return { path: flags.rewriter, threads: flags.threads, backend: chooseBackend(flags.gpu), cpuKernels: flags.cpuKernels, verbose: flags.verbose };
}

export interface LossySetup {
  rewriter: ChatModel;
  prompt: RewritePrompt;
}

/** Pruning as the flags ask for it (after {@link rewriterSpec} checked them), or undefined. */
export interface PruneSetup {
  keeps: number[];
  policy: PrunePolicy;
}

/** The --prune setting, or undefined; usage errors for conflicting flags. `single`: compress takes one KEEP. */
export function pruneSetup(flags: LossyFlags, single: boolean): PruneSetup | undefined {
  rewriterSpec(flags);
  if (!flags.lossy || flags.prune === undefined) return undefined;
  if (single && flags.prune.length !== 1) throw new UsageError(`compress --prune takes one KEEP (got ${flags.prune.length}); bench compares several`);
  return { keeps: [...new Set(flags.prune)].sort((a, b) => a - b), policy: flags.prunePolicy ?? DEFAULT_PRUNE_POLICY };
}

/** Opens the rewriter and reads the prompt, once for all files; undefined without --lossy or with --prune. */
export async function openLossy(flags: LossyFlags): Promise<LossySetup | undefined> {
  const spec = rewriterSpec(flags);
  if (!spec) return undefined;
  const prompt = flags.rewritePrompt ? promptFromBytes(readInput(flags.rewritePrompt), flags.rewritePrompt) : builtInPrompt();
  return { rewriter: await openChatModel(spec), prompt };
}

/** `notes.txt: 12,345 -> 345 bytes, lossy (rewrite 1,234 bytes in 3 sections; 0.224 bits per original byte) in 9.1 s` */
export function describeLossy(label: string, r: LossyCompressResult, seconds: number): string {
  const bpb = r.lossy.originalBytes > 0 ? ((r.archive.length * 8) / r.lossy.originalBytes).toFixed(3) : "-";
  const sections = `${r.lossy.sections} section${r.lossy.sections === 1 ? "" : "s"}`;
  return `${label}: ${groupDigits(r.lossy.originalBytes)} -> ${groupDigits(r.archive.length)} bytes, lossy (rewrite ${groupDigits(r.lossy.rewriteBytes)} bytes in ${sections}; ${bpb} bits per original byte) in ${seconds.toFixed(1)} s`;
}

/** `notes.txt: 12,345 -> 1,234 bytes, lossy (pruned to 0.5: 1,200 of 2,400 tokens, 5,678 bytes kept; 0.800 bits per original byte) in 2.1 s` */
export function describePruned(label: string, r: PruneCompressResult, seconds: number): string {
  const bpb = r.lossy.originalBytes > 0 ? ((r.archive.length * 8) / r.lossy.originalBytes).toFixed(3) : "-";
  return `${label}: ${groupDigits(r.lossy.originalBytes)} -> ${groupDigits(r.archive.length)} bytes, lossy (pruned to ${r.lossy.keep} by ${r.lossy.policy}: ${groupDigits(r.lossy.keptTokens)} of ${groupDigits(r.lossy.totalTokens)} tokens, ${groupDigits(r.lossy.rewriteBytes)} bytes kept; ${bpb} bits per original byte) in ${seconds.toFixed(1)} s`;
}

/** What decompress says on stderr about a lossy archive: the output is not the original. */
export function lossyNote(label: string, info: LossyInfo): string {
  if (info.method === "prune") {
    return `llmzip: note: ${label} is lossy: the output is the ${groupDigits(info.rewriteBytes)}-byte pruned text (${info.keep} of the tokens kept, policy ${info.policy}) of a ${groupDigits(info.originalBytes)}-byte original, not the original`;
  }
  return `llmzip: note: ${label} is lossy: the output is the ${groupDigits(info.rewriteBytes)}-byte rewrite of a ${groupDigits(info.originalBytes)}-byte original (rewriter ${info.rewriter}), not the original`;
}

/** `info` lines of a lossy archive, with the information measure when it was made. */
export function lossyLines(info: LossyInfo, measured?: ArchiveInformation): string[] {
  const lines =
    info.method === "prune"
      ? [`  method          prune (the coding model dropped its most predictable words)`, `  keep            ${info.keep} of the tokens`, `  policy          ${info.policy}`]
      : [`  method          rewrite`, `  rewriter        ${info.rewriter}`, `  prompt          sha256 ${info.promptSha256}…`, `  sections        ${info.sections}`];
  const what = info.method === "prune" ? "pruned text" : "rewrite";
  if (measured) {
    lines.push(
      `  bits alone      ${groupDigits(measured.bitsAlone, 1)} (the original under the coding model, ${groupDigits(measured.originalTokens)} tokens)`,
      `  given rewrite   ${groupDigits(measured.bitsGivenRewrite, 1)} (the same, after reading the ${what}${measured.wholeRewrite ? "" : `'s ${groupDigits(measured.contextTokens)}-token window${measured.aligned ? " around each piece's own words" : ""}`})`,
      `  information     ${groupDigits(measured.informationBits, 1)} bits kept (${groupDigits(measured.bitsPerRewriteToken, 2)} per ${what} token; the archive is ${groupDigits(measured.compressedBits)} bits)`,
    );
  }
  return lines;
}
