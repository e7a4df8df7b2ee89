import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalChatModel } from "../src/chat/local.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { ChatError, ModelError } from "../src/errors.js";
import { modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const story = "Once upon a time there was a little girl named Lily. She loved to play in the park with her dog.";
const request = [
  { role: "system" as const, content: "Rewrite the text succinctly." },
  { role: "user" as const, content: story },
];

describe("local GGUF chat model (node-llama-cpp) beside the lane engine", () => {
  let engine: LlamaEngine;
  let chat: LocalChatModel;
  let bitsBefore: number;
  const tokens = () => engine.tokenize(Buffer.from(story));

  beforeAll(async () => {
    // Our addon first, node-llama-cpp second: the order a decompress-then-rewrite tool would use.
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    engine.configure({ lanes: 1, ctx: 256, flashAttention: false, kvType: "f16", adapters: [] });
    bitsBefore = (await engine.encode([tokens()])).stats.modelBits;
    chat = await LocalChatModel.open(MODEL, { threads: 1 });
  });
  afterAll(async () => {
    await chat.close();
    engine.close();
  });

  it("names the model by file name and sha256 prefix, and knows its context", () => {
    expect(chat.identity).toBe("gguf:stories260K.gguf#659643879ac60198");
    expect(chat.budget.contextTokens).toBe(512);
    expect(chat.budget.countTokens(story)).toBe(engine.tokenize(Buffer.from(story)).length);
  });

  it("decodes greedily: the same request gives the same reply, also from a fresh load", async () => {
    const a = await chat.complete(request, { maxTokens: 40 });
    const b = await chat.complete(request, { maxTokens: 40 });
    expect(a.text.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    // Another request in between must not leak into the next one (every request starts from an empty context).
    await chat.complete([{ role: "user", content: "Tom had a red ball." }], { maxTokens: 20 });
    expect(await chat.complete(request, { maxTokens: 40 })).toEqual(a);
    const fresh = await LocalChatModel.open(MODEL, { threads: 1 });
    try {
      expect(await fresh.complete(request, { maxTokens: 40 })).toEqual(a);
    } finally {
      await fresh.close();
    }
  });

  it("stops at the token limit and says so", async () => {
    const r = await chat.complete(request, { maxTokens: 5 });
    expect(r.finish).toBe("length");
    expect(chat.budget.countTokens(r.text)).toBeLessThanOrEqual(7);
  });

  it("gives a deterministic probability for one of two answers", async () => {
    const q = [{ role: "user" as const, content: "Is the dog happy? Answer yes or no." }];
    const p = await chat.choiceProbability(q, ["yes", "no"]);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(await chat.choiceProbability(q, ["yes", "no"])).toBe(p);
    expect(await chat.choiceProbability(q, ["no", "yes"])).toBeCloseTo(1 - p, 12);
    const other = await chat.choiceProbability([{ role: "user", content: "Did Lily see a big bird in the sky?" }], ["yes", "no"]);
    expect(other).not.toBe(p);
  });

  it("refuses a request that leaves no room for a reply", async () => {
    // llama.cpp's smallest context is 256 tokens.
    const small = await LocalChatModel.open(MODEL, { threads: 1, contextTokens: 256 });
    try {
      expect(small.budget.contextTokens).toBe(256);
      await expect(small.complete([{ role: "user", content: story.repeat(12) }])).rejects.toThrow(ChatError);
      await expect(small.complete([{ role: "user", content: story.repeat(12) }])).rejects.toThrow(/leaves no room for a reply in a 256-token context/);
    } finally {
      await small.close();
    }
  });

  it("fails clearly on a missing or non-GGUF file", async () => {
    await expect(LocalChatModel.open("/nonexistent/model.gguf", { threads: 1 })).rejects.toThrow(ModelError);
    await expect(LocalChatModel.open(new URL(import.meta.url).pathname, { threads: 1 })).rejects.toThrow(/cannot load .*GGUF/);
  });

  it("leaves the lane engine's probabilities untouched (one llama.cpp in the process)", async () => {
    engine.configure({ lanes: 1, ctx: 256, flashAttention: false, kvType: "f16", adapters: [] });
    const run = await engine.encode([tokens()]);
    expect(run.stats.modelBits).toBe(bitsBefore);
    const back = await engine.decode(run.stream, [tokens().length]);
    expect(Array.from(back.chunks[0] ?? [])).toEqual(Array.from(tokens()));
    // A second engine opened after node-llama-cpp works the same.
    const second = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    try {
      second.configure({ lanes: 1, ctx: 256, flashAttention: false, kvType: "f16", adapters: [] });
      expect((await second.encode([tokens()])).stats.modelBits).toBe(bitsBefore);
    } finally {
      second.close();
    }
  });
});
