import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { LocalChatModel } from "../src/chat/local.js";
import { LlamaEngine, PORTABLE_CPU_KERNELS } from "../src/engine/engine.js";
import { modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");

/** The ggml CPU kernel libraries mapped into this process. */
function cpuKernelLibs(): string[] {
  const maps = fs.readFileSync("/proc/self/maps", "utf8").split("\n");
  return [...new Set(maps.map((l) => /libggml-cpu-([\w-]+)\.so/.exec(l)?.[1]).filter((v): v is string => v !== undefined))];
}

// A file of its own: this order (node-llama-cpp before the lane engine) needs a fresh process.
describe("a chat model opened before the coding engine", () => {
  it("runs on llmzip's CPU kernels, so that the engine's logits stay those its archives record", async () => {
    const chat = await LocalChatModel.open(MODEL, { threads: 1 });
    const engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    try {
      // node-llama-cpp alone would load the fastest kernels for this CPU (zen4 here) and the engine would use them.
      expect(cpuKernelLibs()).toEqual([PORTABLE_CPU_KERNELS]);
      expect(engine.info.cpuVariant).toBe(PORTABLE_CPU_KERNELS);
      expect((await chat.complete([{ role: "user", content: "Tom had a red ball." }], { maxTokens: 8 })).text.length).toBeGreaterThan(0);
    } finally {
      engine.close();
      await chat.close();
    }
  });
});
