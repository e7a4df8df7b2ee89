import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

// Mixer configuration 2 with a real model: its token classes come from the
// model's vocabulary, so only these tests cover that path.

const MODEL = modelPath("stories260K.gguf");

describe("mixer 2 with stories260K", () => {
  let one: LlamaEngine;
  let two: LlamaEngine;
  beforeAll(() => {
    one = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    two = LlamaEngine.open(MODEL, { gpu: "off", threads: 2 });
  });
  afterAll(() => {
    one.close();
    two.close();
  });

  for (const rel of ["loghub/OpenSSH_2k.log", "json/citm_catalog.json"]) {
    it(`${rel}: the same archive on 1 and 2 threads, byte-exact back, smaller than mixer 1`, async () => {
      const data = fs.readFileSync(corpusPath(rel)).subarray(0, 2500);
      const a = await compress(data, { model: MODEL, engine: one, forceModel: true, lanes: 3, mixer: 2 });
      const b = await compress(data, { model: MODEL, engine: two, forceModel: true, lanes: 3, mixer: 2 });
      expect(Buffer.compare(Buffer.from(a.archive), Buffer.from(b.archive))).toBe(0);
      for (const engine of [one, two]) {
        const back = await decompress(a.archive, { engine });
        expect(back.header.settings?.mixer).toBe(2);
        expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
      }
      const old = await compress(data, { model: MODEL, engine: one, forceModel: true, lanes: 3, mixer: 1 });
      expect(a.archive.length).toBeLessThan(old.archive.length);
    }, 600_000); // five model passes: slow on a loaded 2-core machine
  }

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
