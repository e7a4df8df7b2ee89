import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { planChunks } from "../src/codec/chunker.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { tempDir } from "./helpers/cli.js";
import { jsonLines, skipWithoutTorch, trainTool } from "./helpers/python.js";
import { corpusPath, modelPath, repoRoot } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const skip = skipWithoutTorch("LoRA training tool");

function lines(file: string, from: number, to: number): Buffer {
  const all = fs.readFileSync(file).toString("latin1").split(/(?<=\n)/);
  return Buffer.from(all.slice(from, to).join(""), "latin1");
}

describe.skipIf(skip)("LoRA training tool (smoke size)", () => {
  let dir: string;
  let adapter: string;
  let evalText: string;
  let engine: LlamaEngine;

  beforeAll(() => {
    dir = tempDir("llmzip-train-");
    const log = corpusPath("loghub/OpenSSH_2k.log");
    const train = path.join(dir, "train.txt");
    evalText = path.join(dir, "eval.txt");
    fs.writeFileSync(train, lines(log, 0, 40));
    fs.writeFileSync(evalText, lines(log, 1000, 1012));
    adapter = path.join(dir, "tiny.gguf");
    trainTool([
      "lora", "--base", MODEL, "--train", train, "--out", adapter, "--work", path.join(dir, "work"),
      "--ctx", "64", "--rank", "2", "--targets", "attn,ffn,output,token_embd", "--steps", "4", "--batch", "4", "--lr", "0.01",
      "--warmup", "0", "--shifts", "2", "--eval-every", "2", "--seed", "1", "--no-measure",
    ]);
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine?.close());

  it("exports an adapter that llama.cpp loads and that round-trips text byte-exact", async () => {
    const data = fs.readFileSync(evalText);
    const adapters = [{ path: adapter, scale: 1 }];
    const withAdapter = await compress(data, { model: MODEL, engine, forceModel: true, adapters, ctx: 64 });
    const back = await decompress(withAdapter.archive, { engine, adapters: [adapter] });
    expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
    const plain = await compress(data, { model: MODEL, engine, forceModel: true, ctx: 64 });
    // Four steps of training already move the predictions.
    expect(withAdapter.stats.lanes?.modelBits).not.toBeCloseTo(plain.stats.lanes?.modelBits ?? 0, 0);
  });

  it("computes in torch the bits llama.cpp computes, with and without the adapter", async () => {
    const data = fs.readFileSync(evalText);
    for (const adapters of [[], [{ path: adapter, scale: 1 }]]) {
      // The tool evaluates chunks that each restart at the start token (chunk mode), so llama.cpp runs the same chunks.
      const chunks = planChunks(data, engine, { maxTokens: 64 }).flatMap((c) => (c.tokens ? [c.tokens] : []));
      engine.configure({ lanes: 1, ctx: 64, flashAttention: false, kvType: "f16", adapters });
      const { stats } = await engine.encode(chunks);
      const args = ["eval", "--model", MODEL, "--ctx", "64", ...adapters.flatMap((a) => ["--adapter", a.path]), evalText];
      const [row] = jsonLines(trainTool(args));
      const engineBits = stats.modelBits;
      expect(engineBits).toBeGreaterThan(0);
      expect(Math.abs((row?.bits as number) - engineBits) / engineBits).toBeLessThan(1e-3);
    }
  });
});

describe("the shipped adapter fixtures/adapters/loghub-openssh.gguf", () => {
  it("codes held-out OpenSSH log lines in far fewer bits than the base model, byte-exact", async () => {
    const adapter = path.join(repoRoot, "fixtures", "adapters", "loghub-openssh.gguf");
    // Lines 1501-1540: in the evaluation half (the adapter was trained on lines 1-900).
    const data = lines(corpusPath("loghub/OpenSSH_2k.log"), 1500, 1540);
    const engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    try {
      const plain = await compress(data, { model: MODEL, engine, forceModel: true });
      const adapted = await compress(data, { model: MODEL, engine, forceModel: true, adapters: [{ path: adapter, scale: 1 }] });
      const back = await decompress(adapted.archive, { engine, adapters: [adapter] });
      expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);
      expect(adapted.stats.lanes?.modelBits ?? Infinity).toBeLessThan(0.3 * (plain.stats.lanes?.modelBits ?? 0));
    } finally {
      engine.close();
    }
  });
});
