import { describe, expect, it } from "vitest";
import { DEFAULT_MIXER, KNOWN_MIXERS } from "../src/codec/settings.js";
import { cpuAddon, type RowCodingOptions } from "../src/engine/native.js";
import { rng, sample } from "./helpers/rng.js";

const addon = cpuAddon();

const VOCAB = 512;

/** Logit rows of a weak model: noise that knows nothing about the text. */
function noiseRows(n: number, r: () => number): Float32Array {
  const rows = new Float32Array(n * VOCAB);
  for (let i = 0; i < rows.length; i++) rows[i] = (r() - 0.5) * 6;
  return rows;
}

/** A text made of a few dozen "phrases" drawn at random: repetitive the way logs are. */
function phraseStream(n: number, r: () => number): Int32Array {
  const phrases = Array.from({ length: 40 }, () => Array.from({ length: 4 + Math.floor(r() * 20) }, () => Math.floor(r() * VOCAB)));
  const out = new Int32Array(n);
  let i = 0;
  while (i < n) {
    const p = phrases[Math.floor(r() * phrases.length)] as number[];
    for (const t of p) if (i < n) out[i++] = t;
  }
  return out;
}

/** Splits n tokens into uneven chunks, as the chunker's line cuts would. */
function chunkLengths(n: number, parts: number): number[] {
  const lengths: number[] = [];
  let left = n;
  for (let k = parts; k > 1; k--) {
    const len = Math.floor((left / k) * (0.6 + ((k * 37) % 10) / 12));
    lengths.push(len);
    left -= len;
  }
  lengths.push(left);
  return lengths;
}

function code(rows: Float32Array, tokens: Int32Array, opts: RowCodingOptions) {
  const coded = addon.codeWithLogits(rows, VOCAB, tokens, opts);
  const back = addon.decodeWithLogits(coded.stream, rows, VOCAB, opts);
  expect(Array.from(back)).toEqual(Array.from(tokens));
  return coded;
}

describe("context mixer, model-free", () => {
  it("codes a repetitive token stream far below the bare model, on any lane count", () => {
    const r = rng(11);
    const n = 6000;
    const tokens = phraseStream(n, r);
    const rows = noiseRows(n, r);
    for (const lanes of [1, 3, 16]) {
      const layout = { lanes, chunkLengths: chunkLengths(n, 9) };
      const bare = code(rows, tokens, { ...layout, mixer: 0 });
      const mixed = code(rows, tokens, { ...layout, mixer: DEFAULT_MIXER });
      // The noise model spends about 9.5 bits a token; the phrases carry some 5 bits of news each.
      expect(bare.stream.length).toBeGreaterThan((n * 9) / 8);
      expect(mixed.stream.length).toBeLessThan(bare.stream.length * 0.2);
      // The table bits are what the coder spends, and the model's own bits are unchanged by mixing.
      expect(mixed.stream.length * 8).toBeLessThanOrEqual(mixed.stats.tableBits * 1.001 + 16);
      expect(mixed.modelBits).toBeCloseTo(bare.modelBits, 3);
    }
  });

  it("builds the same tables on every run, and only the same schedule and mixer decode them", () => {
    const r = rng(5);
    const n = 3000;
    const tokens = phraseStream(n, r);
    const rows = noiseRows(n, r);
    const opts = { lanes: 4, chunkLengths: chunkLengths(n, 6), mixer: DEFAULT_MIXER };
    const a = addon.codeWithLogits(rows, VOCAB, tokens, opts);
    const b = addon.codeWithLogits(rows, VOCAB, tokens, opts);
    expect(Buffer.compare(a.stream, b.stream)).toBe(0);
    expect(a.stats.tableBits).toBe(b.stats.tableBits);
    // Another mixer or schedule decodes other tokens, or runs off the stream and says so.
    const same = (o: RowCodingOptions) => {
      try {
        return Array.from(addon.decodeWithLogits(a.stream, rows, VOCAB, o)).every((t, i) => t === tokens[i]);
      } catch (e) {
        expect((e as Error).message).toMatch(/ends before its last token/);
        return false;
      }
    };
    expect(same(opts)).toBe(true);
    expect(same({ ...opts, mixer: 0 })).toBe(false);
    expect(same({ ...opts, lanes: 3 })).toBe(false);
  });

  it("costs at most 1% more than the bare model where the model is right and nothing repeats", () => {
    const r = rng(9);
    const n = 6000;
    const rows = new Float32Array(n * VOCAB);
    const tokens = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = rows.subarray(i * VOCAB, (i + 1) * VOCAB);
      const temp = 2 + r() * 8;
      for (let k = 0; k < VOCAB; k++) row[k] = (r() - 0.5) * temp;
      tokens[i] = sample(row, r); // the model is exactly right
    }
    const layout = { lanes: 4, chunkLengths: chunkLengths(n, 5) };
    const bare = code(rows, tokens, { ...layout, mixer: 0 });
    const mixed = code(rows, tokens, { ...layout, mixer: DEFAULT_MIXER });
    expect(mixed.stream.length).toBeLessThanOrEqual(bare.stream.length * 1.01);
  });

  it("copes with a model that puts all its mass on the candidates", () => {
    // Every row: one token far above the rest (their exp underflows to the
    // floor): the candidates hold all but ~1e-35 of the model's mass.
    const r = rng(21);
    const n = 3000;
    const tokens = phraseStream(n, r);
    const rows = new Float32Array(n * VOCAB).fill(-1e9);
    tokens.forEach((t, i) => {
      rows[i * VOCAB + (i % 7 === 0 ? (t + 1) % VOCAB : t)] = 0; // right six times in seven
    });
    const layout = { lanes: 2, chunkLengths: chunkLengths(n, 4) };
    const bare = code(rows, tokens, { ...layout, mixer: 0 });
    const mixed = code(rows, tokens, { ...layout, mixer: DEFAULT_MIXER });
    expect(mixed.stream.length).toBeLessThan(bare.stream.length);
  });

  it("rejects configuration ids it does not know", () => {
    const rows = noiseRows(10, rng(1));
    const tokens = Int32Array.from({ length: 10 }, (_, i) => i * 7);
    expect(() => addon.codeWithLogits(rows, VOCAB, tokens, { mixer: 9999 })).toThrow(/unknown context-mixing configuration/);
    expect(() => addon.decodeWithLogits(new Uint8Array(4), rows, VOCAB, { mixer: -1 })).toThrow(/unknown context-mixing configuration/);
    for (const id of KNOWN_MIXERS) code(rows, tokens, { mixer: id });
  });
});
