/**
 * How much a rewrite tells about its original, under the coding model:
 * the bits the model needs for the original alone, minus the bits it needs
 * for the original when it has read the rewrite first. The difference is an
 * estimate of the information the rewrite carries about the original
 * (a pointwise mutual information, in bits).
 */
import { planChunks } from "../codec/chunker.js";
import { defaultContext, defaultLanes, DEFAULT_MIXER, FIXED_LANE_SETTINGS } from "../codec/settings.js";
import type { LlamaEngine } from "../engine/engine.js";
import { sum, sumOf } from "../util/sum.js";

/** Between the rewrite and the original, as a reader would see a summary followed by the text. */
export const CONTEXT_SEPARATOR = "\n\n";

/**
 * Anchors between the original and the lossy text: byte offset
 * `original[i]` of the original is at byte `rewrite[i]` of the lossy text
 * (both ascending). Pruning knows them exactly (`alignWords`).
 */
export interface Alignment {
  original: number[];
  rewrite: number[];
}

/** The lossy text's byte offset for an original byte offset: the last anchor at or before it, plus the distance past it (not beyond the next anchor). */
export function alignedOffset(pos: number, a: Alignment): number {
  let lo = 0;
  let hi = a.original.length - 1;
  if (hi < 0 || pos < (a.original[0] ?? 0)) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((a.original[mid] ?? 0) <= pos) lo = mid;
    else hi = mid - 1;
  }
  const at = (a.rewrite[lo] ?? 0) + (pos - (a.original[lo] ?? 0));
  const next = a.rewrite[lo + 1];
  return next === undefined ? at : Math.min(at, next);
}

export interface InformationOptions {
  engine: LlamaEngine;
  /** Tokens per lane: context plus chunk (default: the model's context, at most 2048). */
  ctx?: number;
  lanes?: number;
  signal?: AbortSignal;
  /**
   * Where the original's bytes are in the lossy text: a piece that reads a
   * window of it reads the window around its own words, not around its
   * proportional position (which wrongs truncation, and drifts for pruning).
   */
  align?: Alignment;
}

export interface InformationReport {
  originalBytes: number;
  /** Bytes of the original the model represents exactly (binary or untokenizable pieces are left out of both sums). */
  measuredBytes: number;
  originalTokens: number;
  rewriteBytes: number;
  rewriteTokens: number;
  /** Pieces the original was cut into so that rewrite context + piece fit the lane context. */
  chunks: number;
  /** Rewrite tokens each piece saw before it (all of them when `wholeRewrite`). */
  contextTokens: number;
  wholeRewrite: boolean;
  /** Windows were placed by an alignment rather than by proportional position. */
  aligned: boolean;
  ctx: number;
  /** -log2 p(original), pieces coded from a fresh context each. */
  bitsAlone: number;
  /** -log2 p(original | rewrite): the same pieces, each after the rewrite (or its window). */
  bitsGivenRewrite: number;
  /** bitsAlone - bitsGivenRewrite. */
  informationBits: number;
  /** informationBits per token of the rewrite (0 for an empty rewrite). */
  bitsPerRewriteToken: number;
}


/** The context both measures read pieces in: the one asked for, else compress's default. */
function measureContext(engine: LlamaEngine, ctx: number | undefined): number {
  const c = ctx ?? defaultContext(engine.info.contextLength);
  if (!Number.isInteger(c) || c < 8) throw new RangeError("ctx must be a whole number of at least 8");
  return c;
}

/**
 * Measures the information `rewrite` carries about `original`. When the
 * rewrite does not fit in half the context, each piece of the original
 * sees the window of the rewrite around its proportional position, which
 * is where a section-by-section rewrite puts that piece's content, or,
 * given an alignment, around where its own bytes went.
 */
export async function measureInformation(original: Uint8Array, rewrite: Uint8Array, opts: InformationOptions): Promise<InformationReport> {
  const { engine } = opts;
  const ctx = measureContext(engine, opts.ctx);
  const rewriteTokens = rewrite.length ? engine.tokenize(rewrite) : new Int32Array(0);
  const sep = rewriteTokens.length ? engine.tokenize(Buffer.from(CONTEXT_SEPARATOR)) : new Int32Array(0);
  const half = Math.floor(ctx / 2);
  const wholeRewrite = rewriteTokens.length + sep.length <= half;
  const window = wholeRewrite ? rewriteTokens.length : Math.max(0, half - sep.length);
  const pieceTokens = ctx - window - sep.length;

  const plan = planChunks(original, engine, { maxTokens: pieceTokens }).filter((c) => c.tokens);
  const pieces = plan.map((c) => c.tokens as Int32Array);
  const report: InformationReport = {
    originalBytes: original.length,
    measuredBytes: sumOf(plan, (c) => c.end - c.start),
    originalTokens: sumOf(pieces, (p) => p.length),
    rewriteBytes: rewrite.length,
    rewriteTokens: rewriteTokens.length,
    chunks: pieces.length,
    contextTokens: window,
    wholeRewrite,
    aligned: Boolean(opts.align) && !wholeRewrite,
    ctx,
    bitsAlone: 0,
    bitsGivenRewrite: 0,
    informationBits: 0,
    bitsPerRewriteToken: 0,
  };
  if (pieces.length === 0) return report;

  const contexts = plan.map((c) => {
    if (window === 0) return new Int32Array(0);
    const mid = (c.start + c.end) / 2;
    const centre = opts.align && rewrite.length > 0 ? alignedOffset(mid, opts.align) / rewrite.length : mid / original.length;
    const from = Math.max(0, Math.min(rewriteTokens.length - window, Math.round(centre * rewriteTokens.length - window / 2)));
    const out = new Int32Array(window + sep.length);
    out.set(rewriteTokens.subarray(from, from + window), 0);
    out.set(sep, window);
    return out;
  });
  engine.configure({ lanes: Math.min(opts.lanes ?? defaultLanes(engine.info.backend), pieces.length), ctx, ...FIXED_LANE_SETTINGS, adapters: [] });
  const alone = await engine.encode(pieces, { signal: opts.signal });
  const given = await engine.encode(pieces, { contexts, signal: opts.signal });
  report.bitsAlone = sum(alone.stats.chunkModelBits);
  report.bitsGivenRewrite = sum(given.stats.chunkModelBits);
  report.informationBits = report.bitsAlone - report.bitsGivenRewrite;
  report.bitsPerRewriteToken = rewriteTokens.length ? report.informationBits / rewriteTokens.length : 0;
  return report;
}

export interface CodedInformationReport {
  originalBytes: number;
  originalTokens: number;
  rewriteBytes: number;
  rewriteTokens: number;
  ctx: number;
  /** The context-mixing configuration both runs coded with. */
  mixer: number;
  /** Bits llmzip's coder spends on the original alone (every piece in order, one lane, the mixer on). */
  bitsAlone: number;
  /** Bits it spends on the original when the rewrite was coded first in the same stream. */
  bitsGivenRewrite: number;
  /** bitsAlone - bitsGivenRewrite. */
  informationBits: number;
}

/**
 * The information `rewrite` carries about `original` as llmzip's own coder
 * sees it: the coded bits of the original alone minus its coded bits when
 * the rewrite is coded first in the same stream (C(x) - C(x | y), the
 * conditional compression of compression-based similarity measures). The
 * language model reads every piece from a fresh context in both runs, so
 * it adds nothing to the difference; what differs is the context mixer's
 * history (hashed order-k statistics and the match model), which spans the
 * whole stream however long the texts are. So the estimate does not depend
 * on the rewrite fitting beside the original in one context window, and a
 * text read twice scores close to all of its bits. It sees only what can be
 * copied or counted (words, phrases, their order), not what a reader infers.
 */
export async function measureCodedInformation(
  original: Uint8Array,
  rewrite: Uint8Array,
  opts: Omit<InformationOptions, "align" | "lanes"> & {
    mixer?: number;
    /** The original's bitsAlone from an earlier call with the same engine, ctx and mixer (bench measures one original against several rewrites). */
    bitsAlone?: number;
  },
): Promise<CodedInformationReport> {
  const { engine } = opts;
  const ctx = measureContext(engine, opts.ctx);
  const mixer = opts.mixer ?? DEFAULT_MIXER;
  if (mixer === 0) throw new RangeError("the coded information measure needs a context-mixing configuration (the mixer carries the rewrite)");
  const piecesOf = (data: Uint8Array) => (data.length ? planChunks(data, engine, { maxTokens: ctx }).flatMap((c) => (c.tokens ? [c.tokens] : [])) : []);
  const orig = piecesOf(original);
  const rew = piecesOf(rewrite);
  const report: CodedInformationReport = {
    originalBytes: original.length,
    originalTokens: sumOf(orig, (p) => p.length),
    rewriteBytes: rewrite.length,
    rewriteTokens: sumOf(rew, (p) => p.length),
    ctx,
    mixer,
    bitsAlone: 0,
    bitsGivenRewrite: 0,
    informationBits: 0,
  };
  if (orig.length === 0) return report;
  // One lane: the schedule hands out chunks in order, so every rewrite piece is coded (and learnt from) before the first original piece.
  engine.configure({ lanes: 1, ctx, ...FIXED_LANE_SETTINGS, adapters: [] });
  report.bitsAlone = opts.bitsAlone ?? sum((await engine.encode(orig, { mixer, signal: opts.signal })).stats.chunkBits);
  // With nothing to read first the second run would be the first one again (bench asks this way for bitsAlone).
  report.bitsGivenRewrite = rew.length
    ? sum((await engine.encode([...rew, ...orig], { mixer, signal: opts.signal })).stats.chunkBits.subarray(rew.length))
    : report.bitsAlone;
  report.informationBits = report.bitsAlone - report.bitsGivenRewrite;
  return report;
}
