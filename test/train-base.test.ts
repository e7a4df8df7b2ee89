import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { tempDir } from "./helpers/cli.js";
import { jsonLines, skipWithoutTorch, trainTool } from "./helpers/python.js";
import { corpusPath, trainPath } from "./helpers/shared.js";

const skip = skipWithoutTorch("base-model pipeline");

/** Text the tokenizer never saw, with the characters where pre-tokenizers tend to disagree. */
const MIXED = Buffer.concat([
  Buffer.from("Hello world!  It's 2024, isn't it?\n\n  x\tThe end.  \nnaïve café ½ x² \x1c a—b «c»\u2003d  \n日本語のテキスト 123,456.78 \t\n\n\n"),
  fs.readFileSync(corpusPath("canterbury/alice29.txt")).subarray(0, 6000),
]);

describe.skipIf(skip)("base-model pipeline (smoke size)", () => {
  let dir: string;
  let q8: string;
  let f32: string;
  let engine: LlamaEngine;
  const run = (work: string, out: string) =>
    trainTool(["base", "--preset", "smoke", "--data", trainPath("train-000.txt.xz"), "--max-bytes", "200000", "--work", work, "--out", out, "--seed", "7"]);

  beforeAll(() => {
    dir = tempDir("llmzip-base-");
    q8 = path.join(dir, "smoke-q8_0.gguf");
    f32 = path.join(dir, "smoke-f32.gguf");
    run(path.join(dir, "work"), q8);
    trainTool(["export", "--work", path.join(dir, "work"), "--out", f32, "--qtype", "f32"]);
    engine = LlamaEngine.open(q8, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine?.close());

  it("exports a Q8_0 GGUF with its tokenizer that llama.cpp loads and that round-trips text", async () => {
    expect(engine.info.architecture).toBe("llama");
    expect(engine.info.vocabSize).toBe(300);
    expect(engine.info.contextLength).toBe(64);
    const { archive, stats } = await compress(MIXED, { model: q8, engine, forceModel: true });
    // The chunker sends the small chunk around \x1c to brotli (control characters look binary); the model codes the rest.
    expect(stats.modelBytes).toBeGreaterThan(MIXED.length * 0.9);
    const back = await decompress(archive, { engine });
    expect(Buffer.compare(Buffer.from(back.data), MIXED)).toBe(0);
  });

  it("tokenizes in Python exactly as llama.cpp does", () => {
    const file = path.join(dir, "mixed.txt");
    fs.writeFileSync(file, MIXED);
    const [row] = jsonLines(trainTool(["tokenize", "--tokenizer", path.join(dir, "work", "tokenizer.json"), file]));
    expect(row?.tokens).toEqual(Array.from(engine.tokenize(MIXED)));
    expect(Buffer.compare(engine.detokenize(engine.tokenize(MIXED)), MIXED)).toBe(0);
  });

  it("writes the tokenizer beside the GGUF as a Hugging Face tokenizer.json with llama.cpp's ids", () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, "smoke-q8_0.tokenizer.json"), "utf8")) as object;
    const hf = new Tokenizer(json, { clean_up_tokenization_spaces: false });
    const text = MIXED.toString("utf8");
    const ids = hf.encode(text, { add_special_tokens: false }).ids;
    expect(ids).toEqual(Array.from(engine.tokenize(MIXED)));
    expect(hf.decode(ids, { clean_up_tokenization_spaces: false })).toBe(text);
    expect([hf.token_to_id("<s>"), hf.token_to_id("</s>")]).toEqual([298, 299]);
  });

  it("computes in torch the bits llama.cpp computes (F32 export)", async () => {
    const file = path.join(dir, "mixed.txt");
    fs.writeFileSync(file, MIXED);
    const e32 = LlamaEngine.open(f32, { gpu: "off", threads: 1 });
    try {
      const { stats } = await compress(MIXED, { model: f32, engine: e32, forceModel: true, lanes: 1 });
      const [row] = jsonLines(trainTool(["eval", "--model", f32, file]));
      const bits = stats.lanes?.modelBits ?? 0;
      expect(bits).toBeGreaterThan(0);
      expect(Math.abs((row?.bits as number) - bits) / bits).toBeLessThan(1e-3);
    } finally {
      e32.close();
    }
  });

  it("is reproducible: the same command in a fresh folder writes the same bytes, and a rerun resumes", () => {
    const again = path.join(dir, "again.gguf");
    run(path.join(dir, "work2"), again);
    expect(Buffer.compare(fs.readFileSync(again), fs.readFileSync(q8))).toBe(0);
    const rerun = run(path.join(dir, "work2"), again);
    expect(rerun).toMatch(/resumed from step 20/);
    expect(Buffer.compare(fs.readFileSync(again), fs.readFileSync(q8))).toBe(0);
  });
});
