/**
 * compress --lossy: the rewriter options, opening the rewriter once for all
 * files, and the summary line of a lossy run.
 */
import type { Command } from "commander";
import { openChatModel, type ChatModelSpec } from "../chat/open.js";
import type { ChatModel } from "../chat/types.js";
import { chooseBackend, type GpuMode } from "../engine/engine.js";
import { UsageError } from "../errors.js";
import type { LossyInfo } from "../lossy/archive.js";
import type { ArchiveInformation } from "../lossy/evaluate.js";
import type { LossyCompressResult } from "../lossy/compress.js";
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
  rm?: boolean;
  threads?: number;
  gpu: GpuMode;
  cpuKernels?: string;
  verbose?: boolean;
}

export function addLossyOptions(cmd: Command): Command {
  return cmd
    .option("--lossy", "rewrite the text succinctly with a chat model, then compress the rewrite (decompression gives the rewrite)")
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
    return undefined;
  }
  if (flags.rm) throw new UsageError("--rm with --lossy would delete the only copy of the original: the archive holds a rewrite of it");
  if (flags.rewriter && flags.rewriterUrl) throw new UsageError("--rewriter and --rewriter-url both name the rewriter; use one");
  if (flags.rewriterUrl) {
    if (!flags.rewriterModel) throw new UsageError("--rewriter-url needs --rewriter-model NAME (the model the endpoint should use)");
    return { url: flags.rewriterUrl, model: flags.rewriterModel, timeoutMs: flags.rewriterTimeout === undefined ? undefined : flags.rewriterTimeout * 1000 };
  }
  if (flags.rewriterModel || flags.rewriterTimeout !== undefined) throw new UsageError("--rewriter-model and --rewriter-timeout go with --rewriter-url");
  if (!flags.rewriter) throw new UsageError("--lossy needs a rewriter: --rewriter PATH (local GGUF) or --rewriter-url URL --rewriter-model NAME");
  // The rewriter shares the process's llama.cpp libraries with the coding engine: same backend and CPU kernels.
  return { path: flags.rewriter, threads: flags.threads, backend: chooseBackend(flags.gpu), cpuKernels: flags.cpuKernels, verbose: flags.verbose };
}

export interface LossySetup {
  rewriter: ChatModel;
  prompt: RewritePrompt;
}

/** Opens the rewriter and reads the prompt, once for all files; undefined without --lossy. */
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

/** What decompress says on stderr about a lossy archive: the output is not the original. */
export function lossyNote(label: string, info: LossyInfo): string {
  return `llmzip: note: ${label} is lossy: the output is the ${groupDigits(info.rewriteBytes)}-byte rewrite of a ${groupDigits(info.originalBytes)}-byte original (rewriter ${info.rewriter}), not the original`;
}

/** `info` lines of a lossy archive, with the information measure when it was made. */
export function lossyLines(info: LossyInfo, measured?: ArchiveInformation): string[] {
  const lines = [
    `  rewriter        ${info.rewriter}`,
    `  prompt          sha256 ${info.promptSha256}…`,
    `  sections        ${info.sections}`,
  ];
  if (measured) {
    lines.push(
      `  bits alone      ${groupDigits(measured.bitsAlone, 1)} (the original under the coding model, ${groupDigits(measured.originalTokens)} tokens)`,
      `  given rewrite   ${groupDigits(measured.bitsGivenRewrite, 1)} (the same, after reading the rewrite${measured.wholeRewrite ? "" : `'s ${groupDigits(measured.contextTokens)}-token window`})`,
      `  information     ${groupDigits(measured.informationBits, 1)} bits kept (${groupDigits(measured.bitsPerRewriteToken, 2)} per rewrite token; the archive is ${groupDigits(measured.compressedBits)} bits)`,
    );
  }
  return lines;
}
