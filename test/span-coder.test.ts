import { describe, expect, it } from "vitest";
import { cpuAddon } from "../src/engine/native.js";
import { cutSpans, spanBounds } from "../src/codec/spans.js";
import { rng, sample } from "./helpers/rng.js";

const addon = cpuAddon();

/** Logit rows and tokens drawn from them, as a model's own text would be. */
function text(vocab: number, n: number, seed: number): { rows: Float32Array; tokens: Int32Array } {
  const r = rng(seed);
  const rows = new Float32Array(n * vocab).map(() => (r() - 0.5) * 12);
  const tokens = new Int32Array(n);
  for (let i = 0; i < n; i++) tokens[i] = sample(rows.subarray(i * vocab, (i + 1) * vocab), r);
  return { rows, tokens };
}

describe("span mode (one span per lane, a sliding window with carried context)", () => {
  it("cuts a stream into lane spans that cover it in order", () => {
    expect(spanBounds(10, 3)).toEqual([0, 3, 6, 10]);
    expect(spanBounds(2, 4)).toEqual([0, 0, 1, 1, 2]);
    const t = Int32Array.from({ length: 11 }, (_, i) => i);
    expect(cutSpans(t, 3).flatMap((s) => Array.from(s))).toEqual(Array.from(t));
  });

  for (const mixer of [0, 1, 2, 3, 4]) {
    it(`round-trips spans longer than the window, with and without carried context (mixer ${mixer})`, () => {
      const vocab = 40;
      const lengths = [70, 0, 33, 101];
      const { rows, tokens } = text(vocab, lengths.reduce((a, b) => a + b, 0), 7 + mixer);
      for (const carry of [0, 1, 5, 14]) {
        const opts = { mixer, lanes: lengths.length, chunkLengths: lengths, span: { window: 16, carry } };
        const coded = addon.codeWithLogits(rows, vocab, tokens, opts);
        expect(Array.from(addon.decodeWithLogits(coded.stream, rows, vocab, opts))).toEqual(Array.from(tokens));
        expect(coded.stats.tokens).toBe(tokens.length);
        // Each row is that position's logits whatever the schedule, so the bare
        // model's bits must equal those of one chunk on one lane.
        if (mixer === 0) expect(coded.modelBits).toBeCloseTo(addon.codeWithLogits(rows, vocab, tokens).modelBits, 9);
      }
    });
  }

  it("codes the bare model's stream beside a mixed one: the mixed stream unchanged, the bare one what mixer 0 writes", () => {
    const vocab = 40;
    const lengths = [70, 0, 33, 101];
    const { rows, tokens } = text(vocab, 204, 5);
    const layout = { lanes: lengths.length, chunkLengths: lengths, span: { window: 16, carry: 5 } };
    const bare = addon.codeWithLogits(rows, vocab, tokens, { ...layout, mixer: 0 });
    for (const mixer of [1, 4]) {
      const both = addon.codeWithLogits(rows, vocab, tokens, { ...layout, mixer, bareToo: true });
      expect(Buffer.compare(both.stream, addon.codeWithLogits(rows, vocab, tokens, { ...layout, mixer }).stream)).toBe(0);
      expect(Buffer.compare(both.bareStream as Buffer, bare.stream)).toBe(0);
      expect(Array.from(addon.decodeWithLogits(both.bareStream as Buffer, rows, vocab, { ...layout, mixer: 0 }))).toEqual(Array.from(tokens));
    }
    expect(() => addon.codeWithLogits(rows, vocab, tokens, { ...layout, mixer: 0, bareToo: true })).toThrow(/beside a mixed one/);
  });

  it("gives up at the first checkpoint whose bits exceed its bar, and only there", () => {
    const vocab = 30;
    const lengths = [90, 90, 90];
    const { rows, tokens } = text(vocab, 270, 11);
    const opts = { mixer: 1, lanes: 3, chunkLengths: lengths, span: { window: 32, carry: 4 } };
    const whole = addon.codeWithLogits(rows, vocab, tokens, opts);
    expect(whole.stats.gaveUpAtStep).toBeUndefined();
    // Bars the run passes change nothing: the same stream as without checkpoints.
    const passed = addon.codeWithLogits(rows, vocab, tokens, { ...opts, giveUp: [{ step: 10, maxBits: whole.stats.tableBits }, { step: 40, maxBits: whole.stats.tableBits }] });
    expect(passed.stats.gaveUpAtStep).toBeUndefined();
    expect(Buffer.compare(passed.stream, whole.stream)).toBe(0);
    // A bar under what the first 40 steps cost stops the run there, after 40 steps of 3 lanes.
    const stopped = addon.codeWithLogits(rows, vocab, tokens, { ...opts, giveUp: [{ step: 10, maxBits: whole.stats.tableBits }, { step: 40, maxBits: 1 }] });
    expect(stopped.stats.gaveUpAtStep).toBe(40);
    expect(stopped.stats.tokens).toBe(120);
    expect(() => addon.codeWithLogits(rows, vocab, tokens, { ...opts, giveUp: [{ step: 40, maxBits: 1 }, { step: 10, maxBits: 1 }] })).toThrow(/ascending/);
  });

  it("rejects windows that cannot hold the carried context", () => {
    const { rows, tokens } = text(8, 10, 3);
    expect(() => addon.codeWithLogits(rows, 8, tokens, { span: { window: 4, carry: 3 } })).toThrow(/window/);
    expect(() => addon.codeWithLogits(rows, 8, tokens, { span: { window: 1, carry: 0 } })).toThrow(/window/);
  });
});
