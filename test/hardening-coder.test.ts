/**
 * The range coder's end-of-stream rule, which lets a decoder stop at once on
 * a truncated stream or a header that declares more tokens than the stream
 * holds: the encoder drops at most 8 trailing zero bytes, so a decoder of a
 * whole stream never reads more than 15 bytes past its end.
 */
import { describe, expect, it } from "vitest";
import { cpuAddon } from "../src/engine/native.js";

const addon = cpuAddon();

/** Rows where token 0 (the bottom of every cumulative table) has probability `p0`, the rest share the remainder. */
function rowsWithBottomToken(n: number, vocab: number, p0: number): Float32Array {
  const rows = new Float32Array(n * vocab);
  const rest = Math.log((1 - p0) / (vocab - 1));
  for (let i = 0; i < n; i++) {
    rows[i * vocab] = Math.log(p0);
    rows.fill(rest, i * vocab + 1, (i + 1) * vocab);
  }
  return rows;
}

describe("end of a range-coded stream", () => {
  it("keeps trailing zeros beyond the eighth, so a whole stream always decodes", () => {
    // Improbable token 0 after improbable token 0 keeps the coded value at the
    // bottom of every interval: the stream ends in a long run of zero bytes.
    const vocab = 16;
    const n = 400;
    const rows = rowsWithBottomToken(n, vocab, 1 / 64);
    const tokens = new Int32Array(n); // all token 0: 6 bits each, 300 zero bytes
    const { stream } = addon.codeWithLogits(rows, vocab, tokens);
    let zeros = 0;
    while (zeros < stream.length && stream[stream.length - 1 - zeros] === 0) zeros++;
    expect(stream.length).toBeGreaterThan(250);
    expect(zeros).toBeGreaterThan(200); // capped dropping: the run is kept
    expect(Array.from(addon.decodeWithLogits(stream, rows, vocab))).toEqual(Array.from(tokens));
  });

  it("a truncated stream fails at once instead of decoding padding", () => {
    const vocab = 16;
    const n = 400;
    const rows = rowsWithBottomToken(n, vocab, 1 / 64);
    const r = (i: number) => (i * 2654435761) >>> 28; // varied tokens: 4+ bits each
    const tokens = Int32Array.from({ length: n }, (_, i) => r(i));
    const { stream } = addon.codeWithLogits(rows, vocab, tokens);
    expect(Array.from(addon.decodeWithLogits(stream, rows, vocab))).toEqual(Array.from(tokens));
    for (const keep of [0, 1, stream.length >> 1, stream.length - 20]) {
      expect(() => addon.decodeWithLogits(stream.subarray(0, keep), rows, vocab), `kept ${keep}`).toThrow(/ends before its last token/);
    }
  });

  it("a header declaring far more tokens than a tiny stream holds stops within a few tokens", () => {
    const vocab = 512;
    const n = 20_000;
    const rows = new Float32Array(n * vocab); // uniform: 9 bits a token
    // Without the rule this would "decode" 20,000 tokens of zero padding and return them.
    expect(() => addon.decodeWithLogits(Uint8Array.from([1, 2, 3, 4]), rows, vocab)).toThrow(/ends before its last token/);
  });

  it("streams of certain tokens stay tiny and decode exactly", () => {
    const vocab = 64;
    const n = 5000;
    const rows = new Float32Array(n * vocab);
    for (let i = 0; i < n; i++) rows[i * vocab + 3] = 40;
    const tokens = new Int32Array(n).fill(3);
    const { stream } = addon.codeWithLogits(rows, vocab, tokens);
    expect(stream.length).toBeLessThanOrEqual(2);
    expect(Array.from(addon.decodeWithLogits(stream, rows, vocab))).toEqual(Array.from(tokens));
  });
});
