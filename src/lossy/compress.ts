/**
 * Lossy compression: a chat model rewrites the text succinctly, or the
 * coding model prunes its most predictable words; then the coding model
 * compresses the rewrite (or kept text) losslessly. Decompression gives
 * back the rewrite exactly, never the original.
 */
import type { ChatModel } from "../chat/types.js";
import { looksBinary } from "../codec/chunker.js";
import { compress, type CompressResult } from "../codec/compress.js";
import type { CompressOptions } from "../codec/options.js";
import { LlamaEngine } from "../engine/engine.js";
import { UsageError } from "../errors.js";
import { lossyLabel, shortSha256, type LossyInfo } from "./archive.js";
import { builtInPrompt, type RewritePrompt } from "./prompt.js";
import { DEFAULT_PRUNE_POLICY, pruneText, scoreText, type PrunePolicy, type TextScores } from "./prune.js";
import { rewriteText } from "./rewrite.js";

export interface LossyCompressOptions extends CompressOptions {
  rewriter: ChatModel;
  /** Default: the built-in prompt. */
  prompt?: RewritePrompt;
  /** Tokens per rewritten section (default: what the rewriter's context allows, at most 2000). */
  sectionTokens?: number;
  /** Called after each rewritten section. */
  onSection?: (done: number, total: number) => void;
}

export interface LossyCompressResult extends CompressResult {
  /** The rewrite, exactly what decompression returns. */
  rewrite: Uint8Array;
  lossy: LossyInfo & { truncatedSections: number };
}

/** The input as text, or a one-line refusal: rewriting binary data or broken UTF-8 would lose it silently. */
export function inputText(data: Uint8Array): string {
  if (looksBinary(data.subarray(0, 1 << 16))) throw new UsageError("--lossy works on text; this input looks binary (compress it without --lossy)");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new UsageError("--lossy works on text; this input is not valid UTF-8 (compress it without --lossy)");
  }
}

/**
 * Rewrites `data` with `opts.rewriter` and codes the rewrite with the coding
 * model. Any rewriter failure (down, timeout, HTTP error, empty or refused
 * rewrite) throws ChatError before anything is coded.
 */
export async function compressLossy(data: Uint8Array, opts: LossyCompressOptions): Promise<LossyCompressResult> {
  const text = inputText(data);
  const prompt = opts.prompt ?? builtInPrompt();
  const rewritten = await rewriteText(text, opts.rewriter, { prompt, sectionTokens: opts.sectionTokens, signal: opts.signal, onSection: opts.onSection });
  const rewrite = Buffer.from(rewritten.text, "utf8");
  const info: LossyInfo = {
    method: "rewrite",
    originalBytes: data.length,
    rewriteBytes: rewrite.length,
    rewriter: opts.rewriter.identity,
    promptSha256: shortSha256(prompt.text),
    originalSha256: shortSha256(data),
    sections: rewritten.sections,
  };
  const coded = await compress(rewrite, { ...opts, ...lossyLabel(info) });
  return {
    ...coded,
    rewrite,
    stats: { ...coded.stats, originalBytes: data.length },
    lossy: { ...info, truncatedSections: rewritten.truncated },
  };
}

export interface PruneCompressOptions extends CompressOptions {
  /** Share of the original's tokens to keep, 0 < keep < 1. */
  keep: number;
  /** Default {@link DEFAULT_PRUNE_POLICY}. */
  policy?: PrunePolicy;
  /** Called during the scoring pass with tokens scored so far. */
  onScore?: (done: number, total: number) => void;
  /** Scores of `data` from an earlier {@link scoreText} with the same engine and ctx (bench prunes one file to several KEEPs). */
  scores?: TextScores;
}

export interface PruneCompressResult extends CompressResult {
  /** The kept text, exactly what decompression returns. */
  kept: Uint8Array;
  lossy: LossyInfo & {
    /** Tokens of the original the scoring pass read, and how many of them the kept words hold. */
    totalTokens: number;
    keptTokens: number;
    words: number;
    keptWords: number;
    /** -log2 p(original) under the coding model, from the scoring pass. */
    scoredBits: number;
    /** The part of scoredBits the kept words' tokens carry (lossy/prune.ts). */
    keptBits: number;
  };
}

/** `keep` as a share strictly between 0 and 1, else a usage error. */
export function checkKeep(keep: number): number {
  if (!(Number.isFinite(keep) && keep > 0 && keep < 1)) throw new UsageError(`--prune KEEP is the share of tokens kept, between 0 and 1 exclusive (got ${keep})`);
  return keep;
}

/**
 * Scores every token of `data` with the coding model, drops the most
 * predictable words until `keep` of the tokens remain, and codes the kept
 * text losslessly with the same model: one scoring pass, one coding pass.
 */
export async function compressPruned(data: Uint8Array, opts: PruneCompressOptions): Promise<PruneCompressResult> {
  inputText(data);
  const keep = checkKeep(opts.keep);
  const policy = opts.policy ?? DEFAULT_PRUNE_POLICY;
  const engine =
    opts.engine ?? LlamaEngine.open(opts.model, { gpu: opts.gpu ?? "auto", threads: opts.threads, verbose: opts.verbose, cpuKernels: opts.cpuKernels, onWarning: opts.onWarning });
  try {
    const scored = opts.scores ?? (await scoreText(data, { engine, ctx: opts.ctx, signal: opts.signal, onProgress: opts.onScore }));
    const pruned = pruneText(data, scored.tokens, keep, policy);
    const info: LossyInfo = {
      method: "prune",
      originalBytes: data.length,
      rewriteBytes: pruned.text.length,
      rewriter: "",
      promptSha256: "",
      originalSha256: shortSha256(data),
      sections: 0,
      keep,
      policy,
    };
    const coded = await compress(pruned.text, { ...opts, engine, ...lossyLabel(info) });
    return {
      ...coded,
      kept: pruned.text,
      stats: { ...coded.stats, originalBytes: data.length },
      lossy: { ...info, totalTokens: pruned.totalTokens, keptTokens: pruned.keptTokens, words: pruned.words, keptWords: pruned.keptWords, scoredBits: scored.bits, keptBits: pruned.keptBits },
    };
  } finally {
    if (!opts.engine) engine.close();
  }
}
