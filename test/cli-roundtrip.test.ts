import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath, repoRoot } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const MODEL_Q8 = modelPath("stories260K-Q8_0.gguf");
const PREFIX = 24 * 1024;

/** Text files of the corpora (whole when small, else a prefix to keep CI fast). */
const TEXT_FILES = [
  "canterbury/alice29.txt",
  "canterbury/asyoulik.txt",
  "canterbury/lcet10.txt",
  "canterbury/plrabn12.txt",
  "canterbury/cp.html",
  "canterbury/fields.c",
  "canterbury/grammar.lsp",
  "canterbury/xargs.1",
  "calgary/paper1",
  "gutenberg/pg1661.txt",
  "json/twitter.json",
  "loghub/Apache_2k.log",
  "misc/gettysburg.txt",
];

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(repoRoot, "fixtures", "samples", name));
}

function sample(rel: string): Buffer {
  const all = fs.readFileSync(corpusPath(rel));
  return all.subarray(0, Math.min(all.length, PREFIX));
}

describe("library round trips with stories260K", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  for (const rel of TEXT_FILES) {
    it(`${rel}: model-coded round trip is byte-exact`, async () => {
      const data = sample(rel);
      const { archive, stats } = await compress(data, { model: MODEL, engine, forceModel: true });
      expect(stats.method).toBe("model");
      expect(stats.modelChunks).toBeGreaterThan(0);
      const back = await decompress(archive, { engine });
      expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
      // The coder spends what the tables say, to within 0.1% plus the final bytes.
      const lanes = stats.lanes;
      expect(lanes).toBeDefined();
      if (lanes) expect(stats.streamBytes * 8).toBeLessThanOrEqual(lanes.tableBits * 1.001 + 16);
    });
  }

  it("default mode never loses to brotli -q 11 by more than a few dozen bytes", async () => {
    const { brotliMax } = await import("../src/codec/fallback.js");
    for (const rel of ["canterbury/alice29.txt", "canterbury/kennedy.xls", "canterbury/ptt5", "misc/pi.txt"]) {
      const data = sample(rel);
      const { archive } = await compress(data, { model: MODEL, engine });
      expect(archive.length).toBeLessThanOrEqual(brotliMax(data).length + 64);
      expect(Buffer.compare(Buffer.from((await decompress(archive, { engine })).data), data)).toBe(0);
    }
  });

  it("round-trips binary data, invalid UTF-8, an empty input and mixed text/binary", async () => {
    const cases = [
      Buffer.alloc(0),
      Buffer.from([0xff, 0xfe, 0x80, 0x41, 0xc3, 0x28, 0x0a]),
      fs.readFileSync(corpusPath("calgary/obj1")),
      Buffer.concat([sample("misc/gettysburg.txt"), fs.readFileSync(corpusPath("canterbury/sum")).subarray(0, 4000), Buffer.from("Once upon a time there was a cat.\n")]),
      Buffer.from("Tom said \uFEFF hello \u00e9\u4e2d\u{1F600}\n".repeat(30)),
      ...["invalid-utf8.txt", "control-chars.txt", "text-and-binary.bin"].map(fixture),
    ];
    for (const data of cases) {
      for (const forceModel of [false, true]) {
        const { archive } = await compress(data, { model: MODEL, engine, forceModel });
        const back = await decompress(archive, { engine });
        expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
      }
    }
  });

  it("codes text the model knows with the model, far below brotli", async () => {
    const data = fixture("story.txt");
    const { archive, stats } = await compress(data, { model: MODEL, engine });
    expect(stats.method).toBe("model");
    const { brotliMax } = await import("../src/codec/fallback.js");
    expect(archive.length).toBeLessThan(brotliMax(data).length * 0.75);
    expect(Buffer.compare(Buffer.from((await decompress(archive, { engine })).data), data)).toBe(0);
  });

  it("lanes change the archive but never the output", async () => {
    const data = sample("canterbury/asyoulik.txt").subarray(0, 6000);
    for (const lanes of [1, 4]) {
      const { archive } = await compress(data, { model: MODEL, engine, forceModel: true, lanes });
      expect(Buffer.compare(Buffer.from((await decompress(archive, { engine })).data), data)).toBe(0);
    }
  });

  it("threads change neither the archive nor the output", async () => {
    // Tiny input in several chunks: two llama.cpp threads crawl on a loaded
    // 2-core machine (ggml's threads spin at barriers), and CI must not time out.
    const data = fixture("story.txt");
    const opts = { model: MODEL, forceModel: true, lanes: 4, ctx: 48 } as const;
    const byOne = await compress(data, { ...opts, engine });
    const two = LlamaEngine.open(MODEL, { gpu: "off", threads: 2 });
    try {
      const byTwo = await compress(data, { ...opts, engine: two });
      // Four lanes, each sliding its 48-cell window at least once.
      expect(byTwo.header.streams[0]?.lanes).toBe(4);
      expect(byTwo.stats.lanes?.tokens).toBeGreaterThan(4 * 48);
      expect(Buffer.compare(Buffer.from(byTwo.archive), Buffer.from(byOne.archive))).toBe(0);
      const back = await decompress(byOne.archive, { engine: two });
      expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
    } finally {
      two.close();
    }
  }, 300_000);
});

describe("Q8_0 model", () => {
  it("round-trips and is not interchangeable with the F32 model", async () => {
    const data = sample("misc/gettysburg.txt");
    const engine = LlamaEngine.open(MODEL_Q8, { gpu: "off", threads: 1 });
    try {
      const { archive } = await compress(data, { model: MODEL_Q8, engine, forceModel: true });
      expect(Buffer.compare(Buffer.from((await decompress(archive, { engine })).data), data)).toBe(0);
      await expect(decompress(archive, { model: MODEL, threads: 1 })).rejects.toThrow(/wrong model/);
    } finally {
      engine.close();
    }
  });
});

describe("command line", () => {
  const env = { LLMZIP_MODEL: MODEL };

  it("compress and decompress files with default names, keeping inputs", () => {
    const dir = tempDir();
    const file = path.join(dir, "notes.txt");
    fs.writeFileSync(file, sample("misc/gettysburg.txt"));
    const c = llmzip(["compress", "--threads", "1", "--force-model", file], { env });
    expect(c.stderr.toString()).toBe("");
    expect(c.status).toBe(0);
    expect(fs.existsSync(`${file}.llmz`)).toBe(true);
    fs.renameSync(file, `${file}.orig`);
    const d = llmzip(["d", "--threads", "1", `${file}.llmz`], { env });
    expect(d.status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(file), fs.readFileSync(`${file}.orig`))).toBe(0);
    expect(fs.existsSync(`${file}.llmz`)).toBe(true);
  });

  it("stdin to stdout both ways, and info --json", () => {
    const data = sample("canterbury/grammar.lsp");
    const c = llmzip(["c", "--threads", "1", "--force-model"], { env, input: data });
    expect(c.status).toBe(0);
    const d = llmzip(["d", "--threads", "1"], { env, input: c.stdout });
    expect(d.status).toBe(0);
    expect(Buffer.compare(d.stdout, data)).toBe(0);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "g.llmz"), c.stdout);
    const info = llmzip(["info", "--json", path.join(dir, "g.llmz")]);
    expect(info.status).toBe(0);
    const parsed = JSON.parse(info.stdout.toString());
    expect(parsed.originalBytes).toBe(data.length);
    expect(parsed.model.name).toBe("stories260K");
    expect(parsed.settings.ctx).toBe(512);
    expect(parsed.chunks.model).toBeGreaterThan(0);
  });

  it("archives use the portable CPU kernels unless told otherwise, and decode with the kernels they name", () => {
    const dir = tempDir();
    const file = path.join(dir, "s.txt");
    const data = fixture("story.txt");
    fs.writeFileSync(file, data);
    for (const [kernels, expected] of [[undefined, "haswell"], ["x64", "x64"]] as const) {
      const out = path.join(dir, `s.${expected}.llmz`);
      const c = llmzip(["c", "--threads", "1", ...(kernels ? ["--cpu-kernels", kernels] : []), "-o", out, file], { env });
      expect(c.status).toBe(0);
      const info = JSON.parse(llmzip(["info", "--json", out]).stdout.toString());
      expect(info.settings.cpuVariant).toBe(expected);
      const d = llmzip(["d", "--threads", "1", "-c", out], { env });
      expect(d.status).toBe(0);
      expect(Buffer.compare(d.stdout, data)).toBe(0);
    }
    const bad = llmzip(["c", "--cpu-kernels", "nonesuch", "-c", file], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr.toString()).toMatch(/^llmzip: llama.cpp has no CPU kernels named 'nonesuch'\n$/);
  });

  it("--rm removes the input only after a verified write; -f is needed to overwrite", () => {
    const dir = tempDir();
    const file = path.join(dir, "a.txt");
    const data = sample("misc/gettysburg.txt");
    fs.writeFileSync(file, data);
    fs.writeFileSync(`${file}.llmz`, "old");
    const refused = llmzip(["c", "--threads", "1", file], { env });
    expect(refused.status).toBe(1);
    expect(refused.stderr.toString()).toMatch(/^llmzip: .*already exists \(use -f to overwrite\)\n$/);
    expect(fs.readFileSync(`${file}.llmz`, "utf8")).toBe("old");
    const ok = llmzip(["c", "--threads", "1", "-f", "--rm", file], { env });
    expect(ok.status).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    const back = llmzip(["d", "--threads", "1", "-c", `${file}.llmz`], { env });
    expect(Buffer.compare(back.stdout, data)).toBe(0);
  });
});
