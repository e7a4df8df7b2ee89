import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

// Mixer configurations 2, 3 and 4 with a real model: their token classes come
// from the model's vocabulary, so only these tests cover that path.

const MODEL = modelPath("stories260K.gguf");

describe("mixers 2, 3 and 4 with stories260K", () => {
  let engine: LlamaEngine;
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  // Each configuration against the one before it, on text it was built for.
  for (const [rel, bytes, mixer] of [
    ["loghub/OpenSSH_2k.log", 2500, 2],
    ["json/citm_catalog.json", 2500, 2],
    ["json/canada.json", 16_384, 3],
    ["json/canada.json", 16_384, 4],
  ] as const) {
    it(`${rel}: byte-exact back with mixer ${mixer}, recorded, smaller than mixer ${mixer - 1}`, async () => {
      const data = fs.readFileSync(corpusPath(rel)).subarray(0, bytes);
      const a = await compress(data, { model: MODEL, engine, forceModel: true, lanes: 3, mixer });
      const back = await decompress(a.archive, { engine });
      expect(back.header.settings?.mixer).toBe(mixer);
      expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
      const before = await compress(data, { model: MODEL, engine, forceModel: true, lanes: 3, mixer: mixer - 1 });
      expect(a.archive.length).toBeLessThan(before.archive.length);
    }, 300_000);
  }

  it("threads change neither the archive nor the output", async () => {
    // Tiny input on short sliding windows: two llama.cpp threads crawl on a
    // loaded 2-core machine (ggml's threads spin at barriers).
    const data = fs.readFileSync(corpusPath("loghub/OpenSSH_2k.log")).subarray(0, 500);
    const opts = { model: MODEL, forceModel: true, lanes: 4, ctx: 48, mixer: 4 } as const;
    const byOne = await compress(data, { ...opts, engine });
    const two = LlamaEngine.open(MODEL, { gpu: "off", threads: 2 });
    try {
      const byTwo = await compress(data, { ...opts, engine: two });
      expect(byTwo.header.settings?.mixer).toBe(4);
      expect(Buffer.compare(Buffer.from(byTwo.archive), Buffer.from(byOne.archive))).toBe(0);
      const back = await decompress(byOne.archive, { engine: two });
      expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
    } finally {
      two.close();
    }
  }, 300_000);

  it("--mixer on the command line: recorded, and decodes", () => {
    const dir = tempDir();
    const input = `${dir}/log.txt`;
    fs.writeFileSync(input, fs.readFileSync(corpusPath("loghub/Zookeeper_2k.log")).subarray(0, 3000));
    const env = { LLMZIP_MODEL: MODEL };
    const c = llmzip(["compress", "--threads", "1", "--force-model", "--mixer", "2", "-f", input], { env });
    expect(c.status, c.stderr.toString()).toBe(0);
    expect(JSON.parse(llmzip(["info", "--json", `${input}.llmz`]).stdout.toString()).settings.mixer).toBe(2);
    const d = llmzip(["decompress", "--threads", "1", "-c", `${input}.llmz`], { env });
    expect(d.status, d.stderr.toString()).toBe(0);
    expect(Buffer.compare(d.stdout, fs.readFileSync(input))).toBe(0);
    expect(llmzip(["compress", "--mixer", "7", "-c", input], { env }).status).not.toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
