/**
 * Cuts input bytes into chunks: pieces of at most `maxTokens` tokens that the
 * model codes, cut at line ends where possible, and pieces the model cannot
 * represent exactly (binary data, bytes the tokenizer does not round-trip),
 * which go to the fallback coder.
 */
import { sameBytes } from "../util/bytes.js";

/** The two tokenizer calls the chunker needs (the engine provides them). */
export interface Tokenizer {
  tokenize(bytes: Uint8Array): Int32Array;
  detokenize(tokens: Int32Array): Uint8Array;
}

export interface PlannedChunk {
  start: number;
  end: number;
  /** Present when the model codes the chunk; absent for fallback chunks. */
  tokens?: Int32Array;
}

export interface ChunkPlanOptions {
  /** Most tokens one chunk may hold (the per-lane context). */
  maxTokens: number;
}

const SAMPLE_BYTES = 1 << 16;
/** Below this size a piece that fails the tokenizer round trip is not split further. */
const MIN_SPLIT_BYTES = 64;

/** Moves a cut back so that it does not fall inside a UTF-8 sequence. */
function utf8Boundary(data: Uint8Array, lo: number, cut: number): number {
  let c = cut;
  for (let k = 0; k < 3 && c > lo + 1 && c < data.length && ((data[c] ?? 0) & 0xc0) === 0x80; k++) c--;
  return c;
}

/** A cut in (lo, hi]: just after the last newline in the back half, else a UTF-8 boundary. */
export function cutPoint(data: Uint8Array, lo: number, hi: number): number {
  if (hi >= data.length) return data.length;
  const floor = lo + Math.floor((hi - lo) / 2);
  for (let i = hi - 1; i >= floor; i--) if (data[i] === 0x0a) return i + 1;
  return Math.max(lo + 1, utf8Boundary(data, lo, hi));
}

/** NUL or many control characters: not text, not worth the model's time. */
export function looksBinary(piece: Uint8Array): boolean {
  let control = 0;
  for (const b of piece) {
    if (b === 0) return true;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x0b && b !== 0x1b) control++;
  }
  return control * 100 > piece.length;
}

/** Bytes per token on a prefix of the input, to size the first guess of each chunk. */
function bytesPerToken(data: Uint8Array, tok: Tokenizer): number {
  const end = cutPoint(data, 0, Math.min(data.length, SAMPLE_BYTES));
  const n = tok.tokenize(data.subarray(0, end)).length;
  return n > 0 ? end / n : 1;
}

/**
 * Plans the chunks of `data`. Model chunks carry their tokens, which are
 * guaranteed to detokenize to exactly the chunk's bytes. Adjacent fallback
 * pieces are merged.
 */
export function planChunks(data: Uint8Array, tok: Tokenizer, opts: ChunkPlanOptions): PlannedChunk[] {
  const { maxTokens } = opts;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError("maxTokens must be a positive integer");
  const chunks: PlannedChunk[] = [];
  const push = (c: PlannedChunk) => {
    const last = chunks[chunks.length - 1];
    if (!c.tokens && last && !last.tokens && last.end === c.start) last.end = c.end;
    else chunks.push(c);
  };
  if (data.length === 0) return chunks;

  const guessBytes = Math.max(MIN_SPLIT_BYTES, Math.floor(maxTokens * bytesPerToken(data, tok) * 0.9));
  let pos = 0;
  while (pos < data.length) {
    let end = cutPoint(data, pos, Math.min(data.length, pos + guessBytes));
    for (;;) {
      const piece = data.subarray(pos, end);
      if (looksBinary(piece)) {
        push({ start: pos, end });
        break;
      }
      const tokens = tok.tokenize(piece);
      if (tokens.length > maxTokens) {
        const shrunk = pos + Math.max(1, Math.floor(((end - pos) * maxTokens * 0.95) / tokens.length));
        end = cutPoint(data, pos, Math.min(shrunk, end - 1));
        continue;
      }
      if (tokens.length > 0 && sameBytes(tok.detokenize(tokens), piece)) {
        push({ start: pos, end, tokens });
        break;
      }
      if (end - pos <= MIN_SPLIT_BYTES) {
        push({ start: pos, end });
        break;
      }
      // Something in this piece does not survive the tokenizer; halve until it is isolated.
      end = cutPoint(data, pos, pos + Math.floor((end - pos) / 2));
    }
    pos = end;
  }
  return chunks;
}
