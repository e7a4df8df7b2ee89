/**
 * Per-chunk adapter choice by trial coding: the first tokens of every chunk
 * are coded once under each candidate adapter set (all chunks of one
 * candidate in one lane run), and each chunk takes the set that spent the
 * fewest bits on them. A set whose estimated savings do not pay for its
 * entry in the archive header is dropped again. The trials only inform the
 * choice: the chunks are then coded for real, one stream per chosen set, so
 * the decoder never needs to know how the choice was made.
 */
import path from "node:path";
import { ModelError } from "../errors.js";
import type { LaneSettings, LlamaEngine } from "../engine/engine.js";
import { describeAdapterSet } from "./adapter-files.js";
import type { AdapterChoice, AdapterSpec } from "./options.js";

export type { AdapterChoice } from "./options.js";

export const DEFAULT_TRIAL_TOKENS = 256;

/** How one candidate did in the trials. */
export interface CandidateResult {
  adapters: AdapterSpec[];
  /** False when the set could not be loaded for this model (then it took no part). */
  loaded: boolean;
  /** Bits of each chunk's trial prefix under this set (NaN when not loaded). */
  chunkBits: Float64Array;
  /** Chunks that ended up coded with this set. */
  chosen: number;
}

export interface AdapterTrial {
  /** The sets chosen for at least one chunk, in candidate order. */
  sets: AdapterSpec[][];
  /** Per chunk, its index into `sets`. */
  choice: number[];
  candidates: CandidateResult[];
  /** Trial tokens per chunk (chunks shorter than this are trialled whole). */
  trialTokens: number;
  /** Wall time of all trial runs. */
  seconds: number;
}

export interface TrialRunOptions {
  signal?: AbortSignal;
  /** Tokens trialled so far, out of `total` (every candidate's prefixes). */
  onProgress?: (done: number, total: number) => void;
  /** Settings of the trial runs; `adapters` is set per candidate. */
  lane: Omit<LaneSettings, "adapters">;
  onWarning?: (message: string) => void;
}

/** Header bytes one more adapter set costs: its entry, its stream's entry and the coder's final bytes. */
function setOverheadBits(set: AdapterSpec[]): number {
  const entries = set.reduce((n, a) => n + Buffer.byteLength(path.basename(a.path)) + 1 + 4 + 32 + 8, 0);
  return 8 * (1 + 4 + 6 + entries);
}

/**
 * Picks an adapter set for each chunk (token arrays, in chunk order) by
 * trial coding a prefix of it with every candidate. Candidates that fail
 * to load (not a LoRA adapter for this model) are skipped with a warning;
 * when none loads, the error of the first is thrown.
 */
export async function chooseAdapterSets(engine: LlamaEngine, chunks: Int32Array[], choice: AdapterChoice, opts: TrialRunOptions): Promise<AdapterTrial> {
  const trialTokens = choice.trialTokens ?? DEFAULT_TRIAL_TOKENS;
  if (!Number.isInteger(trialTokens) || trialTokens < 1) throw new RangeError("trialTokens must be a positive integer");
  if (choice.candidates.length === 0) throw new RangeError("adapter choice needs at least one candidate set");
  const prefixes = chunks.map((c) => c.subarray(0, Math.min(c.length, trialTokens)));
  const prefixTotal = prefixes.reduce((n, p) => n + p.length, 0);
  const total = prefixTotal * choice.candidates.length;
  const longest = prefixes.reduce((n, p) => Math.max(n, p.length), 2);
  const lane = { ...opts.lane, lanes: Math.max(1, Math.min(opts.lane.lanes, chunks.length)), ctx: Math.min(opts.lane.ctx, longest) };

  const t0 = performance.now();
  const candidates: CandidateResult[] = [];
  let firstFailure: Error | undefined;
  for (const [k, adapters] of choice.candidates.entries()) {
    const result: CandidateResult = { adapters, loaded: false, chunkBits: new Float64Array(chunks.length).fill(Number.NaN), chosen: 0 };
    candidates.push(result);
    // A single candidate needs no trial.
    if (choice.candidates.length === 1 || chunks.length === 0) {
      result.loaded = true;
      result.chunkBits.fill(0);
      continue;
    }
    try {
      engine.configure({ ...lane, adapters });
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      firstFailure ??= e;
      opts.onWarning?.(`skipping adapter candidate ${describeAdapterSet(adapters)}: ${e.message}`);
      continue;
    }
    const done = k * prefixTotal;
    const run = await engine.encode(prefixes, {
      signal: opts.signal,
      onProgress: opts.onProgress && ((n) => opts.onProgress?.(done + n, total)),
    });
    result.loaded = true;
    result.chunkBits.set(run.stats.chunkBits);
  }
  const loaded = candidates.filter((c) => c.loaded);
  if (loaded.length === 0) throw firstFailure ?? new ModelError("no adapter candidate could be loaded");

  // Whole-chunk estimates: a chunk longer than its trial is assumed to go on as its prefix did.
  const scale = chunks.map((c, i) => c.length / Math.max(1, prefixes[i]?.length ?? 1));
  const bitsOf = (c: CandidateResult, i: number) => c.chunkBits[i] ?? Number.POSITIVE_INFINITY;
  const bestFor = (sets: CandidateResult[], i: number, except?: CandidateResult) =>
    sets.reduce<CandidateResult | undefined>((best, c) => (c === except || (best && bitsOf(best, i) <= bitsOf(c, i)) ? best : c), undefined);
  let alive = loaded.slice();
  for (;;) {
    const pick = chunks.map((_, i) => bestFor(alive, i) as CandidateResult);
    alive = alive.filter((c) => pick.includes(c));
    if (alive.length <= 1) break;
    // What each set saves over every one of its chunks' next best must pay for its header entry; drop the worst that does not.
    let worst: CandidateResult | undefined;
    let worstMargin = 0;
    for (const c of alive) {
      let saved = 0;
      pick.forEach((p, i) => {
        if (p === c) saved += (bitsOf(bestFor(alive, i, c) as CandidateResult, i) - bitsOf(c, i)) * (scale[i] ?? 1);
      });
      const margin = saved - setOverheadBits(c.adapters);
      if (margin < worstMargin) {
        worst = c;
        worstMargin = margin;
      }
    }
    if (!worst) break;
    alive = alive.filter((c) => c !== worst);
  }

  const pick = chunks.map((_, i) => bestFor(alive, i) as CandidateResult);
  const used = alive.filter((c) => pick.includes(c));
  const chosen = pick.map((c) => used.indexOf(c));
  for (const c of pick) c.chosen++;
  return { sets: used.map((c) => c.adapters), choice: chosen, candidates, trialTokens, seconds: (performance.now() - t0) / 1000 };
}
