/**
 * How a stream's tokens are laid on lanes (format 2). A stream's model chunks,
 * in chunk order, form one token sequence of T tokens; lane i of K codes the
 * span [floor(i T / K), floor((i + 1) T / K)) from start to end, through a
 * window of `ctx` KV cells that slides forward with `carry` tokens of context
 * (see native/src/lane_coder.h, SpanWindow). The decoder derives the same
 * spans from the chunk table's token counts and the stream's K.
 */

/** Start of each span and the end of the last: K + 1 offsets into the stream's tokens. */
export function spanBounds(totalTokens: number, lanes: number): number[] {
  const bounds: number[] = [];
  for (let i = 0; i <= lanes; i++) bounds.push(Math.floor((i * totalTokens) / lanes));
  return bounds;
}

/** The stream's tokens cut into its lanes' spans (views, no copies). */
export function cutSpans(tokens: Int32Array, lanes: number): Int32Array[] {
  const b = spanBounds(tokens.length, lanes);
  return Array.from({ length: lanes }, (_, i) => tokens.subarray(b[i], b[i + 1]));
}

/** Concatenates token arrays. */
export function joinTokens(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Lanes for a stream of `totalTokens` (encoder policy; the archive records
 * the choice): every lane starts cold, without context, so a lane should
 * have at least a window's worth of tokens to code.
 */
export function lanesForStream(totalTokens: number, maxLanes: number, ctx: number): number {
  return Math.max(1, Math.min(maxLanes, Math.floor(totalTokens / ctx)));
}

/**
 * Tokens carried into each new window (encoder policy; recorded in the
 * archive): an eighth of the window. A refeed costs a batch of carry + 1
 * rows per lane once per window; more context helps the first tokens of a
 * window, less leaves more of the window for new tokens.
 */
export function defaultCarry(ctx: number): number {
  return Math.max(0, Math.min(ctx - 2, Math.floor(ctx / 8)));
}
