import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaEngine, defaultThreads } from "../src/engine/engine.js";
import { compress } from "../src/codec/compress.js";
import { parseHeader } from "../src/container/format.js";
import { modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");

describe("lane engine", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  const text = (s: string) => engine.tokenize(Buffer.from(s));

  it("codes chunks as continuations of a context and decodes them back", async () => {
    const chunks = [text("the cat sat on the mat."), text("Lily went to the park with her mom."), text("He was happy.")];
    const contexts = [text("Once upon a time, "), new Int32Array(0), text("Tom found a ball. ")];
    engine.configure({ lanes: 2, ctx: 128, flashAttention: false, kvType: "f16", adapters: [] });
    const withCtx = await engine.encode(chunks, { contexts });
    const plain = await engine.encode(chunks);
    // The context changes the predictions of the chunks it precedes; others move only by batch-shape noise.
    expect(withCtx.stats.chunkModelBits[0]).not.toBeCloseTo(plain.stats.chunkModelBits[0] as number, 3);
    expect(withCtx.stats.chunkModelBits[1]).toBeCloseTo(plain.stats.chunkModelBits[1] as number, 3);
    expect(Buffer.compare(withCtx.stream, plain.stream)).not.toBe(0);
    const back = await engine.decode(withCtx.stream, chunks.map((c) => c.length), { contexts });
    expect(back.chunks.map((c) => Array.from(c))).toEqual(chunks.map((c) => Array.from(c)));
    // Decoding without the context cannot give the same tokens.
    const wrong = await engine.decode(withCtx.stream, chunks.map((c) => c.length));
    expect(wrong.chunks.map((c) => Array.from(c))).not.toEqual(chunks.map((c) => Array.from(c)));
  });

  it("reports per-chunk bits that add up to the run's totals", async () => {
    engine.configure({ lanes: 3, ctx: 128, flashAttention: false, kvType: "f16", adapters: [] });
    const { stats } = await engine.encode([text("One day a girl named Sue saw a bird."), text("The dog ran fast.")]);
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(sum(stats.chunkBits)).toBeCloseTo(stats.tableBits, 6);
    expect(sum(stats.chunkModelBits)).toBeCloseTo(stats.modelBits, 6);
    expect(stats.tableBits).toBeGreaterThan(0);
  });

  it("codes with 8 lanes on the CPU when none are asked for, and records them", async () => {
    const story = Buffer.from(Array.from({ length: 40 }, (_, i) => `Tom had a red ball number ${i}. He liked to play with it in the park.\n`).join(""));
    const { archive } = await compress(story, { model: MODEL, engine, ctx: 32, forceModel: true });
    const { header } = parseHeader(archive);
    expect(header.settings?.lanes).toBe(8);
    expect(header.streams[0]?.lanes).toBe(8);
  });

  it("picks one thread for tiny models, and every idle core for large ones", () => {
    expect(defaultThreads(260_000, 8, 0)).toBe(1);
    expect(defaultThreads(58_000_000, 8, 0)).toBe(8);
    expect(defaultThreads(58_000_000, 2, 0.3)).toBe(2);
    expect(defaultThreads(58_000_000, 2, 1.2)).toBe(1);
    expect(defaultThreads(58_000_000, 2, 9)).toBe(1);
    expect(engine.info.parameters).toBeLessThan(1_000_000);
  });
});
