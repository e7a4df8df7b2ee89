import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { DEFAULT_MIXER, KNOWN_MIXERS } from "../src/codec/options.js";
import { parseArchive, serializeArchive } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { cpuAddon, type RowCodingOptions } from "../src/engine/native.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { rng, sample } from "./helpers/random.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

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
    const same = (o: RowCodingOptions) => Array.from(addon.decodeWithLogits(a.stream, rows, VOCAB, o)).every((t, i) => t === tokens[i]);
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

  it("rejects configuration ids it does not know", () => {
    const rows = noiseRows(10, rng(1));
    const tokens = Int32Array.from({ length: 10 }, (_, i) => i * 7);
    expect(() => addon.codeWithLogits(rows, VOCAB, tokens, { mixer: 9999 })).toThrow(/unknown context-mixing configuration/);
    expect(() => addon.decodeWithLogits(new Uint8Array(4), rows, VOCAB, { mixer: -1 })).toThrow(/unknown context-mixing configuration/);
    for (const id of KNOWN_MIXERS) code(rows, tokens, { mixer: id });
  });
});

const MODEL = modelPath("stories260K.gguf");
const SAMPLE = 6 * 1024;

function corpusSample(rel: string, bytes = SAMPLE): Buffer {
  return fs.readFileSync(corpusPath(rel)).subarray(0, bytes);
}

describe("context mixing with stories260K", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  const roundTrip = async (data: Buffer, archive: Uint8Array) => {
    const back = await decompress(archive, { engine });
    expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
    return back.header;
  };

  for (const [rel, lanes] of [
    ["loghub/HDFS_2k.log", 1],
    ["loghub/Apache_2k.log", 5],
    ["json/twitter.json", 16],
    ["calgary/progc", 3],
    ["canterbury/alice29.txt", 16],
  ] as const) {
    it(`${rel}, ${lanes} lane(s): byte-exact, mixer recorded, smaller than the bare model`, async () => {
      const data = corpusSample(rel);
      const mixed = await compress(data, { model: MODEL, engine, forceModel: true, lanes });
      const bare = await compress(data, { model: MODEL, engine, forceModel: true, lanes, mix: false });
      expect((await roundTrip(data, mixed.archive)).settings?.mixer).toBe(DEFAULT_MIXER);
      expect((await roundTrip(data, bare.archive)).settings?.mixer).toBe(0);
      expect(mixed.archive.length).toBeLessThan(bare.archive.length);
    });
  }

  it("gives the same archive on every run", async () => {
    const data = corpusSample("loghub/Linux_2k.log", 3000);
    const a = await compress(data, { model: MODEL, engine, forceModel: true, lanes: 4 });
    const b = await compress(data, { model: MODEL, engine, forceModel: true, lanes: 4 });
    expect(Buffer.compare(Buffer.from(a.archive), Buffer.from(b.archive))).toBe(0);
  });

  it("refuses an archive that names a mixer this build does not know", async () => {
    const data = corpusSample("loghub/Linux_2k.log", 2000);
    const { archive } = await compress(data, { model: MODEL, engine, forceModel: true });
    const { header, body } = parseArchive(archive);
    if (!header.settings) throw new Error("expected a model archive");
    header.settings.mixer = 4242;
    await expect(decompress(serializeArchive(header, body), { engine })).rejects.toThrow(/context-mixing configuration 4242/);
  });

  it("--no-mix on the command line: recorded as off, and decodes", () => {
    const dir = tempDir();
    const input = `${dir}/log.txt`;
    fs.writeFileSync(input, corpusSample("loghub/Zookeeper_2k.log", 3000));
    const env = { LLMZIP_MODEL: MODEL };
    for (const [flags, mixer] of [[["--no-mix"], 0], [[], DEFAULT_MIXER]] as const) {
      const c = llmzip(["compress", "--threads", "1", "--force-model", "-f", ...flags, input], { env });
      expect(c.status, c.stderr.toString()).toBe(0);
      const info = llmzip(["info", "--json", `${input}.llmz`]);
      expect(JSON.parse(info.stdout.toString()).settings.mixer).toBe(mixer);
      const d = llmzip(["decompress", "--threads", "1", "-c", `${input}.llmz`], { env });
      expect(d.status, d.stderr.toString()).toBe(0);
      expect(Buffer.compare(d.stdout, fs.readFileSync(input))).toBe(0);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
