/**
 * Pruning: the coding model scores every token of a text by its surprisal
 * in context, and the most predictable whole words are dropped until a
 * given share of the tokens remains (prompt compression in the style of
 * Selective Context and LLMLingua). Everything here but {@link scoreText}
 * is model-free: it works on byte offsets and scores.
 */
import { planChunks } from "../codec/chunker.js";
import { defaultContext, FIXED_LANE_SETTINGS } from "../codec/settings.js";
import type { LlamaEngine } from "../engine/engine.js";
import { ModelError } from "../errors.js";
import type { Alignment } from "./information.js";
import { seededRandom } from "../util/random.js";
import { sum, sumOf } from "../util/sum.js";

/**
 * How words are ranked for dropping (docs/LOSSY.md compares them):
 * - `token`: a word's most surprising token (a word goes only when every token of it is predictable);
 * - `word`: the summed surprisal of its tokens (the information the word carries);
 * - `word-mean`: that sum per token (long predictable words go as readily as short ones);
 * - `sentence`: whole sentences (ended by . ! ? ; or a blank line) by their surprisal per token, lowest first, then `word-mean` within what is left to land on KEEP;
 * - `random`, `truncate`: baselines that ignore the model (seeded random words; the first KEEP of the text).
 */
export const PRUNE_POLICIES = ["token", "word", "word-mean", "sentence", "random", "truncate"] as const;
export type PrunePolicy = (typeof PRUNE_POLICIES)[number];
/**
 * The default: in docs/LOSSY.md's measurements with llmzip-en, far ahead of
 * the other model-ranked policies and of random words in coded information
 * per archive bit, with archives near KEEP x lossless. Truncation keeps more
 * coded information per bit (a prefix is what a compressor copies best), so
 * issue 20's target against it is not met; see there.
 */
export const DEFAULT_PRUNE_POLICY: PrunePolicy = "sentence";

/** One token of the original: its bytes and its surprisal, -log2 p, in bits. */
export interface ScoredToken {
  start: number;
  end: number;
  bits: number;
}

/** A run of non-whitespace bytes of the original. */
export interface Word {
  start: number;
  end: number;
}

export interface PruneResult {
  /** The kept text: kept words in order, separated by whitespace of the original. */
  text: Uint8Array;
  /** Tokens attributed to words of the original (whitespace-only tokens go to the next word). */
  totalTokens: number;
  keptTokens: number;
  words: number;
  keptWords: number;
  /** Surprisal of all scored tokens, and of those the kept words (and whitespace-only tokens) hold: the self-information kept, as Selective Context counts it. */
  totalBits: number;
  keptBits: number;
}

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d || b === 0x0c || b === 0x0b;

/**
 * The words of a UTF-8 text: maximal runs of bytes other than ASCII
 * whitespace. UTF-8 never puts an ASCII byte inside a multi-byte character,
 * so a word is always whole characters.
 */
export function splitWords(data: Uint8Array): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < data.length) {
    while (i < data.length && isSpace(data[i])) i++;
    if (i >= data.length) break;
    const start = i;
    while (i < data.length && !isSpace(data[i])) i++;
    words.push({ start, end: i });
  }
  return words;
}

/** Tokens and summed/max bits per word; a token belongs to the word holding its first non-space byte, else the next word. */
function attribute(data: Uint8Array, words: Word[], tokens: ScoredToken[]): { count: Float64Array; sum: Float64Array; max: Float64Array; unattributed: number; unattributedBits: number } {
  const count = new Float64Array(words.length);
  const sum = new Float64Array(words.length);
  const max = new Float64Array(words.length);
  let unattributed = 0;
  let unattributedBits = 0;
  let w = 0;
  for (const t of tokens) {
    let first = t.start;
    while (first < t.end && isSpace(data[first])) first++;
    while (w < words.length && (words[w] as Word).end <= first) w++;
    if (w >= words.length) {
      unattributed++;
      unattributedBits += t.bits;
      continue;
    }
    count[w] = (count[w] ?? 0) + 1;
    sum[w] = (sum[w] ?? 0) + t.bits;
    max[w] = Math.max(max[w] ?? 0, t.bits);
  }
  return { count, sum, max, unattributed, unattributedBits };
}

/** Bytes that may follow a sentence's last punctuation mark inside its word: closing quotes and brackets (ASCII, and ’ ” in UTF-8). */
function stripClosers(data: Uint8Array, start: number, end: number): number {
  let e = end;
  for (;;) {
    const b = data[e - 1];
    if (e > start && (b === 0x22 || b === 0x27 || b === 0x29 || b === 0x5d || b === 0x2a || b === 0x5f)) e--;
    // ’ (e2 80 99) and ” (e2 80 9d)
    else if (e - 3 >= start && data[e - 3] === 0xe2 && data[e - 2] === 0x80 && (b === 0x99 || b === 0x9d)) e -= 3;
    else return e;
  }
}

/**
 * The sentence each word belongs to: a sentence ends at a word whose last
 * mark (before closing quotes and brackets) is . ! ? or ;, or before a blank
 * line. A single line break does not end one: hard-wrapped prose breaks
 * lines mid-sentence, and a line of it is no unit of meaning.
 */
export function sentenceOf(data: Uint8Array, words: Word[]): Int32Array {
  const unit = new Int32Array(words.length);
  let u = 0;
  for (const [i, w] of words.entries()) {
    unit[i] = u;
    const last = data[stripClosers(data, w.start, w.end) - 1];
    const next = words[i + 1];
    if (last === 0x2e || last === 0x21 || last === 0x3f || last === 0x3b || (next && newlines(data, w.end, next.start) >= 2)) u++;
  }
  return unit;
}

/**
 * Fewest tokens of a unit the sentence policy drops or keeps whole; shorter
 * sentences join the next. Longer units break the text in fewer places, which
 * costs bits at each cut (the kept text loses its context there). llmzip-en,
 * 16 KB of alice29, coded information per archive bit at KEEP 0.3 / 0.5 /
 * 0.7: 1 token 0.793 / 0.854 / 0.895, 24 tokens 0.823 / 0.887 / 0.917, 48
 * tokens 0.804 / 0.882 / 0.919, 96 tokens 0.774 / 0.904 / 0.921; 24 kept as
 * much self-information per bit as 1 (1.23-1.25), 48 and 96 less at 0.3.
 */
export const SENTENCE_MIN_TOKENS = 24;

/** Joins each unit shorter than `min` tokens to the one after it (the last to the one before). */
function joinShort(unit: Int32Array, tokens: Float64Array, min: number): Int32Array {
  const out = new Int32Array(unit.length);
  let u = 0;
  let have = 0;
  for (let i = 0; i < unit.length; i++) {
    out[i] = u;
    have += tokens[i] ?? 0;
    const ends = i + 1 === unit.length || unit[i + 1] !== unit[i];
    if (ends && have >= min && i + 1 < unit.length) {
      u++;
      have = 0;
    }
  }
  // A short tail joins the unit before it.
  if (have < min && u > 0) for (let i = unit.length - 1; i >= 0 && out[i] === u; i--) out[i] = u - 1;
  return out;
}

/** Words to keep, by policy, so that at most `keep` of the attributed tokens remain (at least one word stays). */
function chooseKept(data: Uint8Array, words: Word[], stats: ReturnType<typeof attribute>, keep: number, policy: PrunePolicy): boolean[] {
  const n = words.length;
  const kept = new Array<boolean>(n).fill(true);
  const total = sum(stats.count);
  const target = keep * total;
  if (policy === "truncate") {
    let used = 0;
    for (let i = 0; i < n; i++) {
      used += stats.count[i] ?? 0;
      kept[i] = i === 0 || used <= target;
    }
    return kept;
  }
  if (policy === "sentence") return chooseSentences(data, words, stats, target);
  let score: (i: number) => number;
  if (policy === "random") {
    const rnd = seededRandom(0x9e3779b9);
    const r = Array.from({ length: n }, () => rnd());
    score = (i) => r[i] ?? 0;
  } else if (policy === "token") score = (i) => stats.max[i] ?? 0;
  else if (policy === "word") score = (i) => stats.sum[i] ?? 0;
  else score = meanBits(stats);
  dropWords(kept, stats, score, total, target);
  return kept;
}

const meanBits =
  (stats: ReturnType<typeof attribute>) =>
  (i: number): number =>
    (stats.count[i] ?? 0) > 0 ? (stats.sum[i] ?? 0) / (stats.count[i] ?? 1) : 0;

/** Drops kept words, lowest score first (ties in text order), while more than `target` of the `left` tokens remain; at least one word stays. */
function dropWords(kept: boolean[], stats: ReturnType<typeof attribute>, score: (i: number) => number, left: number, target: number): void {
  // Words the model never scored (pieces it cannot represent) are kept: nothing says they are predictable.
  const order = [...kept.keys()].filter((i) => kept[i] && (stats.count[i] ?? 0) > 0).sort((a, b) => score(a) - score(b) || a - b);
  let remaining = kept.filter(Boolean).length;
  for (const i of order) {
    if (left <= target || remaining <= 1) break;
    kept[i] = false;
    left -= stats.count[i] ?? 0;
    remaining--;
  }
}

/**
 * Whole sentences go, lowest surprisal per token first (ties in text
 * order), as long as dropping one leaves at least `target` tokens; a
 * sentence that would overshoot is skipped for a shorter one. What is still
 * above the target then goes word by word (`word-mean`) from the kept
 * sentences, so the share kept lands on KEEP as the word policies' does.
 * Kept sentences are whole and fluent: they code near their cost in the
 * original, where dropped words scattered through every sentence leave
 * text that costs more per token.
 */
function chooseSentences(data: Uint8Array, words: Word[], stats: ReturnType<typeof attribute>, target: number): boolean[] {
  const kept = new Array<boolean>(words.length).fill(true);
  const unit = joinShort(sentenceOf(data, words), stats.count, SENTENCE_MIN_TOKENS);
  const units = (unit.at(-1) ?? -1) + 1;
  const count = new Float64Array(units);
  const unitBits = new Float64Array(units);
  const unscored = new Uint8Array(units);
  for (let i = 0; i < words.length; i++) {
    const u = unit[i] as number;
    count[u] = (count[u] ?? 0) + (stats.count[i] ?? 0);
    unitBits[u] = (unitBits[u] ?? 0) + (stats.sum[i] ?? 0);
    if ((stats.count[i] ?? 0) === 0) unscored[u] = 1;
  }
  let left = sum(count);
  const density = (u: number) => (unitBits[u] ?? 0) / Math.max(1, count[u] ?? 0);
  // A sentence holding words the model never scored stays, as such words do under the word policies.
  const order = [...count.keys()].filter((u) => !unscored[u] && (count[u] ?? 0) > 0).sort((a, b) => density(a) - density(b) || a - b);
  const dropped = new Uint8Array(units);
  let remaining = units;
  for (const u of order) {
    if (left <= target || remaining <= 1) break;
    if (left - (count[u] ?? 0) < target) continue;
    dropped[u] = 1;
    left -= count[u] ?? 0;
    remaining--;
  }
  for (let i = 0; i < words.length; i++) kept[i] = !dropped[unit[i] as number];
  dropWords(kept, stats, meanBits(stats), left, target);
  return kept;
}

/** Counts the line breaks of a whitespace run: the run with most of them separates two kept words. */
function newlines(data: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (data[i] === 0x0a) n++;
  return n;
}

/**
 * Drops the words of `data` that `policy` ranks lowest until at most `keep`
 * of the tokens remain. Kept words keep their bytes and order; between two
 * kept words goes the whitespace run, among those the dropped words stood
 * between, with the most line breaks (the first on a tie), so that lines
 * and paragraphs survive.
 */
export function pruneText(data: Uint8Array, tokens: ScoredToken[], keep: number, policy: PrunePolicy): PruneResult {
  if (!(keep > 0 && keep < 1)) throw new RangeError("keep must be a fraction between 0 and 1");
  const words = splitWords(data);
  const stats = attribute(data, words, tokens);
  const kept = chooseKept(data, words, stats, keep, policy);
  const parts: Uint8Array[] = [data.subarray(0, words[0]?.start ?? data.length)];
  let keptTokens = stats.unattributed;
  let keptBits = stats.unattributedBits;
  let keptWords = 0;
  // The strongest whitespace run since the last kept word.
  let gap: Word | undefined;
  for (const [i, w] of words.entries()) {
    const prev = words[i - 1];
    if (prev && keptWords > 0) {
      const before = { start: prev.end, end: w.start };
      if (gap === undefined || newlines(data, before.start, before.end) > newlines(data, gap.start, gap.end)) gap = before;
    }
    if (!kept[i]) continue;
    if (gap) parts.push(data.subarray(gap.start, gap.end));
    parts.push(data.subarray(w.start, w.end));
    keptTokens += stats.count[i] ?? 0;
    keptBits += stats.sum[i] ?? 0;
    keptWords++;
    gap = undefined;
  }
  const last = words[words.length - 1];
  if (last) parts.push(data.subarray(last.end));
  const text = new Uint8Array(sumOf(parts, (p) => p.length));
  let at = 0;
  for (const p of parts) {
    text.set(p, at);
    at += p.length;
  }
  return { text, totalTokens: sum(stats.count) + stats.unattributed, keptTokens, words: words.length, keptWords, totalBits: sum(stats.sum) + stats.unattributedBits, keptBits };
}

/**
 * Where each word of `kept` stands in `original`, when the words of `kept`
 * are the words of `original` with some left out, in order (what pruning
 * promises); undefined otherwise. Matched greedily, first fit.
 */
export function alignWords(kept: Uint8Array, original: Uint8Array): Alignment | undefined {
  const a = splitWords(kept);
  const b = splitWords(original);
  const out: Alignment = { original: [], rewrite: [] };
  let j = 0;
  for (const w of a) {
    const len = w.end - w.start;
    for (;;) {
      const o = b[j++];
      if (!o) return undefined;
      if (o.end - o.start === len && Buffer.compare(kept.subarray(w.start, w.end), original.subarray(o.start, o.end)) === 0) {
        out.original.push(o.start);
        out.rewrite.push(w.start);
        break;
      }
    }
  }
  return out;
}

/** True when the words of `kept` are the words of `original` with some left out, in order. */
export const isWordSubsequence = (kept: Uint8Array, original: Uint8Array): boolean => alignWords(kept, original) !== undefined;

/** Byte offsets of each token of a chunk whose tokens detokenize to exactly its bytes. */
function tokenOffsets(engine: LlamaEngine, tokens: Int32Array, chunkBytes: number): Int32Array | undefined {
  const ends = new Int32Array(tokens.length);
  let at = 0;
  for (let i = 0; i < tokens.length; i++) {
    at += engine.detokenize(tokens.subarray(i, i + 1)).length;
    ends[i] = at;
  }
  // Tokenizers that drop a leading space on the first piece (or merge bytes across pieces) do not add up; the caller spreads evenly then.
  return at === chunkBytes ? ends : undefined;
}

/**
 * Positions the scoring pass evaluates per batch. llmzip-en, one thread, 16 KB
 * of alice29 (5,152 tokens in 512-token pieces): 128 rows 13.8 s, 32 rows
 * 14.8 s, 512 rows 19.5 s, coding's lockstep of 8 lanes (evaluation only)
 * 35 s, on the shared, busy 2-core machine.
 */
const SCORE_BATCH_ROWS = 128;

/** Every scored token of a text, and their total: -log2 p(text) under the model, pieces read from fresh contexts. */
export interface TextScores {
  tokens: ScoredToken[];
  bits: number;
}

export interface ScoreOptions {
  engine: LlamaEngine;
  /** Tokens per piece (default: the model's context, at most 2048), as compress codes. */
  ctx?: number;
  signal?: AbortSignal;
  onProgress?: (tokens: number, total: number) => void;
}

/**
 * Scores every token of `data` with the coding model: each piece of at most
 * `ctx` tokens is read from a fresh context, as compress and the
 * information measure's "bits alone" read it. Bytes the model cannot
 * represent get no tokens. The pieces are evaluated whole, one batch each,
 * not step by step in lanes as coding must: with llmzip-en that made the
 * scoring pass several times faster (docs/LOSSY.md), and scores need not
 * match the coder's logits bit for bit.
 */
export async function scoreText(data: Uint8Array, opts: ScoreOptions): Promise<TextScores> {
  const { engine } = opts;
  const ctx = opts.ctx ?? defaultContext(engine.info.contextLength);
  const plan = planChunks(data, engine, { maxTokens: ctx }).filter((c) => c.tokens);
  const pieces = plan.map((c) => c.tokens as Int32Array);
  if (pieces.length === 0) return { tokens: [], bits: 0 };
  const total = sumOf(pieces, (p) => p.length);
  const rows = Math.min(ctx, SCORE_BATCH_ROWS);
  engine.configure({ lanes: 1, ctx, batchRows: rows, ...FIXED_LANE_SETTINGS, adapters: [] });
  const run = await engine.encode(pieces, { scoreRows: rows, signal: opts.signal, onProgress: (n) => opts.onProgress?.(n, total) });
  const perToken = run.stats.tokenModelBits;
  if (!perToken) throw new ModelError("the native engine gives no per-token bits (rebuild it: npm run build)");
  const out: ScoredToken[] = [];
  plan.forEach((c, k) => {
    const toks = c.tokens as Int32Array;
    const bits = perToken[k] as Float64Array;
    const len = c.end - c.start;
    const ends = tokenOffsets(engine, toks, len);
    let prev = 0;
    for (let i = 0; i < toks.length; i++) {
      const end = ends ? (ends[i] as number) : Math.round(((i + 1) * len) / toks.length);
      out.push({ start: c.start + prev, end: c.start + end, bits: bits[i] ?? 0 });
      prev = end;
    }
  });
  return { tokens: out, bits: run.stats.modelBits };
}
