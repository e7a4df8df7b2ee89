/**
 * Lossy compression: a chat model rewrites the text succinctly, then the
 * coding model compresses the rewrite losslessly. Decompression gives back
 * the rewrite exactly, never the original.
 */
import type { ChatModel } from "../chat/types.js";
import { looksBinary } from "../codec/chunker.js";
import { compress, type CompressResult } from "../codec/compress.js";
import type { CompressOptions } from "../codec/options.js";
import { UsageError } from "../errors.js";
import { lossyLabel, shortSha256, type LossyInfo } from "./archive.js";
import { builtInPrompt, type RewritePrompt } from "./prompt.js";
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
  if (looksBinary(data.subarray(0, 1 << 16))) throw new UsageError("--lossy rewrites text; this input looks binary (compress it without --lossy)");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new UsageError("--lossy rewrites text; this input is not valid UTF-8 (compress it without --lossy)");
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
