import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaEngine } from "../src/engine/engine.js";
import { repoRoot, sharedDir } from "./helpers/shared.js";

const GGUF = path.join(repoRoot, "models", "llmzip-en.gguf");
const TOKENIZER = path.join(repoRoot, "models", "llmzip-en.tokenizer.json");
const CORPORA = path.join(sharedDir(), "corpora");

/** Every file below `dir`, sorted, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** The file as text, or undefined when it is not valid UTF-8 (a BOM is kept: it is part of the bytes). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The Hugging Face tokenizer.json shipped beside the default model gives
 * llama.cpp's ids (read from the GGUF) on every text file of the shared
 * corpora, so other tools see the tokens llmzip codes.
 */
describe("models/llmzip-en.tokenizer.json with @huggingface/tokenizers", () => {
  let engine: LlamaEngine;
  let hf: Tokenizer;
  beforeAll(() => {
    engine = LlamaEngine.open(GGUF, { gpu: "off", threads: 1 });
    // No tokenizer_config.json: the defaults, with the clean-up of spaces off as llmzip needs.
    hf = new Tokenizer(JSON.parse(fs.readFileSync(TOKENIZER, "utf8")) as object, { clean_up_tokenization_spaces: false });
  });
  afterAll(() => engine?.close());

  it("has the GGUF's vocabulary", () => {
    expect(hf.get_vocab().size).toBe(engine.info.vocabSize);
  });

  it("gives llama.cpp's ids on every UTF-8 corpus file, and decodes them back", () => {
    const skipped: string[] = [];
    const compared: string[] = [];
    for (const rel of filesBelow(CORPORA)) {
      const bytes = fs.readFileSync(path.join(CORPORA, rel));
      const text = utf8(bytes);
      if (text === undefined) {
        skipped.push(rel);
        continue;
      }
      const want = Array.from(engine.tokenize(bytes));
      const got = hf.encode(text, { add_special_tokens: false }).ids;
      expect(got.length, rel).toBe(want.length);
      expect(got, rel).toEqual(want);
      expect(hf.decode(got, { clean_up_tokenization_spaces: false }) === text, rel).toBe(true);
      compared.push(rel);
    }
    console.info(`compared ${compared.length} files; not UTF-8, skipped: ${skipped.join(", ")}`);
    // Every English text of the benchmarks is among them.
    for (const f of ["canterbury/alice29.txt", "canterbury/asyoulik.txt", "canterbury/lcet10.txt", "canterbury/plrabn12.txt", "calgary/book1", "calgary/book2", "gutenberg/pg1661.txt"]) {
      expect(compared).toContain(f);
    }
    // About 25 s of CPU for 17 MB of text in JavaScript: more on a machine that is busy.
  }, 600_000);
});
