import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaEngine } from "../src/engine/engine.js";
import { ModelError } from "../src/errors.js";
import { readGgufInfo } from "../src/models/gguf.js";
import { tempDir } from "./helpers/cli.js";
import { modelPath } from "./helpers/shared.js";

const MODELS = ["stories260K.gguf", "stories260K-Q8_0.gguf", "synth58M-Q8_0.gguf"];

let dir: string;
beforeAll(() => {
  dir = tempDir("llmzip-gguf-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Uint8Array): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  return f;
}

/** A minimal GGUF v3 header builder, for hostile inputs. */
class Gguf {
  private parts: Buffer[] = [];
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    this.u64(Buffer.byteLength(s));
    this.parts.push(Buffer.from(s));
    return this;
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  static header(tensors: number | bigint, kvs: number | bigint): Gguf {
    return new Gguf().raw(Buffer.from("GGUF")).u32(3).u64(tensors).u64(kvs);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe("GGUF metadata reader", () => {
  for (const name of MODELS) {
    it(`${name}: agrees with llama.cpp on architecture, parameters, vocabulary and context`, () => {
      const file = modelPath(name);
      const info = readGgufInfo(file);
      const engine = LlamaEngine.open(file, { gpu: "off", threads: 1 });
      try {
        expect(info.architecture).toBe(engine.info.architecture);
        expect(info.parameters).toBe(engine.info.parameters);
        expect(info.vocabSize).toBe(engine.info.vocabSize);
        expect(info.contextLength).toBe(engine.info.contextLength);
        expect(info.name).toBe(engine.info.name);
      } finally {
        engine.close();
      }
    });
  }

  it("reads stories260K's known facts and file type", () => {
    const info = readGgufInfo(modelPath("stories260K.gguf"));
    expect(info).toMatchObject({ version: 3, architecture: "llama", name: "stories260K", vocabSize: 512, contextLength: 512, fileType: 0, tensorCount: 48 });
    expect(readGgufInfo(modelPath("stories260K-Q8_0.gguf")).fileType).toBe(7);
    // Arrays appear as their length, not their contents.
    expect(info.metadata["tokenizer.ggml.tokens"]).toEqual({ arrayOf: 8, length: 512 });
  });

  it("tells an adapter from a model", () => {
    expect(readGgufInfo(modelPath("stories260K-lora-random.gguf")).type).toBe("adapter");
    expect(readGgufInfo(modelPath("stories260K.gguf")).type).toBeUndefined();
  });

  it("rejects every truncation of a real header with a ModelError", () => {
    const whole = fs.readFileSync(modelPath("stories260K.gguf"));
    // Metadata and tensor table of this file take its first 14,213 bytes; every cut inside them must be caught.
    const headerEnd = 14_213;
    const f = write("cut.gguf", whole.subarray(0, headerEnd));
    expect(readGgufInfo(f).tensorCount).toBe(48);
    // Cutting one file shorter and shorter is much cheaper than writing a file per length.
    for (let n = headerEnd - 1; n >= 0; n -= n > headerEnd - 64 ? 1 : 5) {
      fs.truncateSync(f, n);
      expect(() => readGgufInfo(f), `cut at ${n}`).toThrow(ModelError);
    }
  });

  it("survives random corruption of the header without crashing or hanging", () => {
    const whole = fs.readFileSync(modelPath("stories260K.gguf"));
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const f = write("fuzz.gguf", whole.subarray(0, 20_000));
    const fd = fs.openSync(f, "r+");
    try {
      for (let i = 0; i < 300; i++) {
        const pokes: [number, Buffer][] = [];
        for (let k = 0; k < 4; k++) {
          const at = 8 + Math.floor(rand() * 6000);
          pokes.push([at, whole.subarray(at, at + 1)]);
          fs.writeSync(fd, Buffer.from([Math.floor(rand() * 256)]), 0, 1, at);
        }
        try {
          readGgufInfo(f);
        } catch (e) {
          expect(e).toBeInstanceOf(ModelError);
        }
        for (const [at, orig] of pokes.reverse()) fs.writeSync(fd, orig, 0, 1, at);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it("names the problem for files that are not GGUF models", () => {
    const cases: [string, Buffer, RegExp][] = [
      ["empty.gguf", Buffer.alloc(0), /no GGUF magic/],
      ["text.gguf", Buffer.from("hello world, not a model"), /no GGUF magic/],
      ["v1.gguf", new Gguf().raw(Buffer.from("GGUF")).u32(1).build(), /version 1 is obsolete/],
      ["be.gguf", new Gguf().raw(Buffer.from("GGUF")).raw(Buffer.from([0, 0, 0, 3])).build(), /big-endian/],
      ["v9.gguf", new Gguf().raw(Buffer.from("GGUF")).u32(9).u64(0).u64(0).build(), /unknown GGUF version 9/],
      ["huge-count.gguf", Gguf.header(0, 2n ** 62n).build(), /metadata count .* implausibly large/],
      ["huge-key.gguf", Gguf.header(0, 1).u64(2n ** 40n).build(), /implausibly large/],
      ["huge-array.gguf", Gguf.header(0, 1).str("a").u32(9).u32(4).u64(2n ** 40n).build(), /implausibly large|past the end/],
      ["huge-string-array.gguf", Gguf.header(0, 1).str("a").u32(9).u32(8).u64(1_000_000).build(), /implausibly large|past the end/],
      ["bad-type.gguf", Gguf.header(0, 1).str("a").u32(77).build(), /unknown type 77/],
      ["no-arch.gguf", Gguf.header(0, 1).str("general.name").u32(8).str("x").build(), /general.architecture is missing/],
      ["bad-dims.gguf", Gguf.header(1, 1).str("general.architecture").u32(8).str("llama").str("t").u32(99).build(), /99 dimensions/],
    ];
    for (const [name, data, why] of cases) {
      const f = write(name, data);
      expect(() => readGgufInfo(f), name).toThrow(why);
      expect(() => readGgufInfo(f), name).toThrow(ModelError);
    }
    expect(() => readGgufInfo(path.join(dir, "missing.gguf"))).toThrow(/model file not found/);
    expect(() => readGgufInfo(dir)).toThrow(/directory|not a regular file/);
  });

  it("counts parameters from the tensor table of a hand-built file", () => {
    const f = write(
      "built.gguf",
      Gguf.header(2, 3)
        .str("general.architecture").u32(8).str("qwen2")
        .str("qwen2.context_length").u32(4).u32(32768)
        .str("qwen2.vocab_size").u32(10).u64(151936)
        .str("w1").u32(2).u64(10).u64(20).u32(0).u64(0)
        .str("w2").u32(1).u64(5).u32(0).u64(800)
        .build(),
    );
    expect(readGgufInfo(f)).toMatchObject({ architecture: "qwen2", parameters: 205, vocabSize: 151936, contextLength: 32768, tensorCount: 2 });
  });
});
