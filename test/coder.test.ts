import { describe, expect, it } from "vitest";
import { cpuAddon } from "../src/engine/native.js";
import { rng, sample } from "./helpers/rng.js";

const addon = cpuAddon();

function softmaxBits(row: Float32Array, t: number): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return -Math.log2(Math.exp((row[t] as number) - max) / sum);
}

function roundTrip(rows: Float32Array, vocab: number, tokens: Int32Array) {
  const { stream, modelBits } = addon.codeWithLogits(rows, vocab, tokens);
  const back = addon.decodeWithLogits(stream, rows, vocab);
  expect(Array.from(back)).toEqual(Array.from(tokens));
  return { bytes: stream.length, modelBits };
}

describe("frequency table", () => {
  it("sums to exactly 2^31 with every token at least 1", () => {
    const r = rng(1);
    for (const vocab of [1, 2, 512, 32000, 151936]) {
      const logits = new Float32Array(vocab).map(() => (r() - 0.5) * 40);
      const f = addon.frequencyTable(logits);
      let total = 0;
      let min = Infinity;
      for (const v of f) {
        total += v;
        min = Math.min(min, v);
      }
      expect(total).toBe(2 ** 31);
      expect(min).toBeGreaterThanOrEqual(1);
    }
  });

  it("follows the softmax closely where probabilities are not tiny", () => {
    const vocab = 1000;
    const logits = new Float32Array(vocab).map((_, i) => -i * 0.01);
    const f = addon.frequencyTable(logits);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v);
    for (const i of [1, 10, 100, 500]) {
      const p = Math.exp(logits[i] as number) / sum;
      expect(Math.abs((f[i] as number) / 2 ** 31 / p - 1)).toBeLessThan(1e-5);
    }
    // The most likely token also takes the rounding leftover: a little more, never less.
    const p0 = 1 / sum;
    const excess = (f[0] as number) / 2 ** 31 - p0;
    expect(excess).toBeGreaterThan(0);
    expect(excess).toBeLessThan(2 ** -19 + vocab / 2 ** 31);
  });

  it("is deterministic and rejects NaN and +inf logits", () => {
    const logits = new Float32Array(64).map((_, i) => Math.sin(i) * 9);
    expect(Array.from(addon.frequencyTable(logits))).toEqual(Array.from(addon.frequencyTable(logits)));
    const bad = logits.slice();
    bad[3] = Number.NaN;
    expect(() => addon.frequencyTable(bad)).toThrow(/invalid logits/);
    bad[3] = Number.POSITIVE_INFINITY;
    expect(() => addon.frequencyTable(bad)).toThrow(/invalid logits/);
  });

  it("gives -inf logits the floor of 1", () => {
    const logits = new Float32Array([0, Number.NEGATIVE_INFINITY, -1]);
    const f = addon.frequencyTable(logits);
    expect(f[1]).toBe(1);
  });
});

describe("range coder", () => {
  it("round-trips random distributions within 0.1% of the model's cross-entropy", () => {
    const r = rng(7);
    const vocab = 4096;
    const n = 3000;
    const rows = new Float32Array(n * vocab);
    const tokens = new Int32Array(n);
    let exact = 0;
    for (let i = 0; i < n; i++) {
      const row = rows.subarray(i * vocab, (i + 1) * vocab);
      const temp = 1 + r() * 6;
      for (let k = 0; k < vocab; k++) row[k] = (r() - 0.5) * 2 * temp;
      tokens[i] = sample(row, r);
      exact += softmaxBits(row, tokens[i] as number);
    }
    const { bytes, modelBits } = roundTrip(rows, vocab, tokens);
    expect(Math.abs(modelBits / exact - 1)).toBeLessThan(1e-5);
    expect((bytes * 8) / modelBits).toBeLessThan(1.001);
  });

  it("round-trips extreme distributions: near-certain, uniform, floor-only tokens, vocabulary of one", () => {
    const r = rng(3);
    const vocab = 300;
    const n = 2000;
    const rows = new Float32Array(n * vocab);
    const tokens = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = rows.subarray(i * vocab, (i + 1) * vocab);
      const kind = i % 4;
      if (kind === 0) row.fill(0); // uniform
      if (kind === 1) row[(i * 7) % vocab] = 80; // near-certain
      if (kind === 2) for (let k = 0; k < vocab; k++) row[k] = -k * 3; // steep
      if (kind === 3) row.fill(Number.NEGATIVE_INFINITY, 1).fill(0, 0, 1);
      // Half the time code the least likely token: the table's floor must hold it.
      tokens[i] = r() < 0.5 ? vocab - 1 : Math.floor(r() * vocab);
    }
    roundTrip(rows, vocab, tokens);
    const one = roundTrip(new Float32Array(500), 1, new Int32Array(500));
    expect(one.bytes).toBeLessThanOrEqual(1);
  });

  it("codes a long run of certain tokens in almost nothing", () => {
    const vocab = 32000;
    const n = 200;
    const rows = new Float32Array(n * vocab);
    const tokens = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      rows[i * vocab + 5] = 60;
      tokens[i] = 5;
    }
    expect(roundTrip(rows, vocab, tokens).bytes).toBeLessThanOrEqual(2);
  });
});
