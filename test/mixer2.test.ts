import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cpuAddon, type RowCodingOptions } from "../src/engine/native.js";
import { rng } from "./helpers/rng.js";

// Mixer configurations 2-4 (structure contexts) against the ones before, model-free.

const addon = cpuAddon();
const VOCAB = 512;
const NEWLINE = 13;
const SPACE = 7;
const COMMA = 44;
const OPEN = 91;
const CLOSE = 93;
const DOT = 46;
const MINUS = 45;

/** Token classes as the vocabulary gives them: one newline, one space, one delimiter, ten digits. */
function classes(): Uint8Array {
  const c = new Uint8Array(VOCAB);
  c[NEWLINE] = 1;
  c[SPACE] = 2;
  c[COMMA] = 4;
  c[OPEN] = 4;
  c[CLOSE] = 4;
  for (let d = 0; d < 10; d++) c[100 + d] = 8;
  return c;
}

function noiseRows(n: number, r: () => number): Float32Array {
  const rows = new Float32Array(n * VOCAB);
  for (let i = 0; i < rows.length; i++) rows[i] = (r() - 0.5) * 6;
  return rows;
}

/**
 * A delimited log: each line is a counter that steps by one, a level drawn
 * from three, a host drawn from a few, and a message drawn from a handful
 * with a random number in it. What predicts a field is the same field one
 * line up, whatever the fields before it held.
 */
function delimitedLog(n: number, r: () => number): Int32Array {
  const word = () => Array.from({ length: 2 + Math.floor(r() * 4) }, () => 200 + Math.floor(r() * 300));
  const levels = [word(), word(), word()];
  const hosts = Array.from({ length: 5 }, word);
  const messages = Array.from({ length: 6 }, () => [word(), word(), word()]);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)] as T;
  const out: number[] = [];
  for (let line = 1000; out.length < n; line++) {
    for (const ch of String(line)) out.push(100 + Number(ch));
    out.push(COMMA, ...pick(levels), COMMA, ...pick(hosts), COMMA);
    const m = pick(messages);
    out.push(...(m[0] as number[]), SPACE, ...(m[1] as number[]), SPACE);
    for (let d = 0; d < 1 + Math.floor(r() * 5); d++) out.push(100 + Math.floor(r() * 10));
    out.push(SPACE, ...(m[2] as number[]), NEWLINE);
  }
  return Int32Array.from(out.slice(0, n));
}

/**
 * A one-line JSON array of points, "[[-65.613617,43.420273],[...],...": each
 * coordinate steps a little from the previous point's, so its leading digits
 * are the previous point's same coordinate, which no line above holds.
 */
function pointsLine(n: number, r: () => number): Int32Array {
  const out: number[] = [OPEN];
  const digits = (v: number) => Array.from(String(v), (ch) => (ch === "." ? DOT : 100 + Number(ch)));
  let x = 65_613_617;
  let y = 43_420_273;
  while (out.length < n) {
    x += Math.floor((r() - 0.5) * 20_000);
    y += Math.floor((r() - 0.5) * 20_000);
    out.push(OPEN, MINUS, ...digits(x / 1e6), COMMA, ...digits(y / 1e6), CLOSE, COMMA);
  }
  return Int32Array.from(out.slice(0, n));
}

function code(rows: Float32Array, tokens: Int32Array, opts: RowCodingOptions) {
  const coded = addon.codeWithLogits(rows, VOCAB, tokens, opts);
  const back = addon.decodeWithLogits(coded.stream, rows, VOCAB, opts);
  expect(Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength))).toBe(0);
  return coded;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Chunk mode on one and on several lanes, and span mode: exact back, and the same stream when coded again. */
function roundTripsOnEveryLayout(rows: Float32Array, tokens: Int32Array, mixer: number) {
  for (const opts of [
    { lanes: 1 },
    { lanes: 3, chunkLengths: [3000, 5000, 1000, 3000] },
    { lanes: 4, span: { window: 128, carry: 32 }, chunkLengths: [3000, 3000, 3000, 3000] },
  ] as RowCodingOptions[]) {
    const a = code(rows, tokens, { ...opts, mixer, tokenClasses: classes() });
    const b = addon.codeWithLogits(rows, VOCAB, tokens, { ...opts, mixer, tokenClasses: classes() });
    expect(sha256(b.stream)).toBe(sha256(a.stream));
  }
}

describe("mixer configuration 1 is frozen", () => {
  // Streams pinned before configuration 2 was added: archives written with
  // mixer 1 must decode bit-exactly forever, so its stream may never change.
  it("codes the pinned input to the pinned streams, in chunk and span mode", () => {
    const r = rng(77);
    const n = 4000;
    const phrases = Array.from({ length: 30 }, () => Array.from({ length: 3 + Math.floor(r() * 12) }, () => Math.floor(r() * VOCAB)));
    const tokens = new Int32Array(n);
    let i = 0;
    while (i < n) {
      const p = phrases[Math.floor(r() * phrases.length)] as number[];
      for (const t of p) if (i < n) tokens[i++] = t;
    }
    const rows = noiseRows(n, r);
    const chunked = code(rows, tokens, { mixer: 1, lanes: 3, chunkLengths: [1000, 1500, 700, 800] });
    expect(sha256(chunked.stream)).toBe("7861b10e6f07056aa4d6c19bd33a2759ab97f8393e0639caaac4c10440289c6f");
    const spans = code(rows, tokens, { mixer: 1, lanes: 4, span: { window: 64, carry: 16 }, chunkLengths: [1000, 1500, 700, 800] });
    expect(sha256(spans.stream)).toBe("7adebd25156a708acfa50e9c70028565d2aa83b5a32a04378661b22b22fef7fe");
    // Token classes feed only the structure contexts: mixer 1 ignores them.
    const withClasses = code(rows, tokens, { mixer: 1, lanes: 3, chunkLengths: [1000, 1500, 700, 800], tokenClasses: classes() });
    expect(sha256(withClasses.stream)).toBe(sha256(chunked.stream));
  });
});

describe("mixer configuration 2", () => {
  const r = rng(31);
  const n = 12000;
  const tokens = delimitedLog(n, r);
  const rows = noiseRows(n, r);

  it("round-trips exactly on every layout, and gives the same stream on every run", () => roundTripsOnEveryLayout(rows, tokens, 2));

  it("configurations 2 and 3 code the pinned input to the pinned streams", () => {
    // Pinned before configuration 4 was added: its sibling context must leave them as they were.
    const opts = { lanes: 3, chunkLengths: [3000, 5000, 1000, 3000], tokenClasses: classes() };
    expect(sha256(code(rows, tokens, { ...opts, mixer: 2 }).stream)).toBe("79cbbbb8363aeccb4918886732565904f562699dc689ac839d9c8455f6f818fb");
    expect(sha256(code(rows, tokens, { ...opts, mixer: 3 }).stream)).toBe("25407390d4b14355f53d17faeecbd957fcbe8589357024c91d6cf899c286d2e2");
  });

  it("learns the columns of delimited text: smaller than configuration 1, and the classes are what helps", () => {
    const one = code(rows, tokens, { mixer: 1, lanes: 2, tokenClasses: classes() });
    const two = code(rows, tokens, { mixer: 2, lanes: 2, tokenClasses: classes() });
    const blind = code(rows, tokens, { mixer: 2, lanes: 2 });
    expect(two.stream.length).toBeLessThan(one.stream.length * 0.97);
    expect(two.stream.length).toBeLessThan(blind.stream.length);
  });

  it("decodes only with the classes it was coded with", () => {
    const opts = { mixer: 2, lanes: 2, tokenClasses: classes() };
    const a = addon.codeWithLogits(rows, VOCAB, tokens, opts);
    let same: boolean;
    try {
      same = Array.from(addon.decodeWithLogits(a.stream, rows, VOCAB, { mixer: 2, lanes: 2 })).every((t, i) => t === tokens[i]);
    } catch (e) {
      expect((e as Error).message).toMatch(/ends before its last token/);
      same = false;
    }
    expect(same).toBe(false);
  });

  it("costs at most 1% more than the bare model on text with nothing to learn", () => {
    const rr = rng(3);
    const m = 5000;
    const noise = Int32Array.from({ length: m }, () => Math.floor(rr() * VOCAB));
    const noiseLogits = new Float32Array(m * VOCAB); // uniform: the model is exactly right
    const bare = code(noiseLogits, noise, { mixer: 0, lanes: 2 });
    const mixed = code(noiseLogits, noise, { mixer: 2, lanes: 2, tokenClasses: classes() });
    expect(mixed.stream.length).toBeLessThanOrEqual(bare.stream.length * 1.01);
  });
});

describe("mixer configuration 4", () => {
  const r = rng(44);
  const n = 12000;
  const tokens = pointsLine(n, r);
  const rows = noiseRows(n, r);

  it("round-trips exactly on every layout, and gives the same stream on every run", () => roundTripsOnEveryLayout(rows, tokens, 4));

  it("learns a coordinate from the previous point's on one line: smaller than configuration 3", () => {
    const three = code(rows, tokens, { mixer: 3, lanes: 2, tokenClasses: classes() });
    const four = code(rows, tokens, { mixer: 4, lanes: 2, tokenClasses: classes() });
    expect(four.stream.length).toBeLessThan(three.stream.length * 0.95);
  });
});
