/**
 * The mismatch matrix on decompress: whatever differs between how an archive
 * was made and how it is decoded (model, quantization, adapter, scale,
 * context, lanes, backend, coder settings, format version) is reported in
 * one line that names it, before anything is written.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { FORMAT_VERSION } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { CorruptArchiveError, LlmzipError, MismatchError, ModelError, UnsupportedFormatError } from "../src/errors.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath } from "./helpers/shared.js";
import { reserialize } from "./fuzz/forge.js";
import { reChecksum } from "./fuzz/mutate.js";

const MODEL = modelPath("stories260K.gguf");
const MODEL_Q8 = modelPath("stories260K-Q8_0.gguf");
const SYNTH = modelPath("synth58M-Q8_0.gguf");
const LORA = modelPath("stories260K-lora-random.gguf");

/** The error a decompression ends in (fails the test when it succeeds). */
async function failure(p: Promise<unknown>): Promise<LlmzipError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LlmzipError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as LlmzipError;
  }
  throw new Error("decompression succeeded but should have failed");
}

describe("mismatch matrix on decompress", () => {
  let engine: LlamaEngine;
  let text: Buffer;
  let archive: Uint8Array;
  let adapterArchive: Uint8Array;
  let dir: string;

  beforeAll(async () => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    text = fs.readFileSync(corpusPath("canterbury/alice29.txt")).subarray(0, 1500);
    archive = (await compress(text, { model: MODEL, engine, lanes: 4, ctx: 128, forceModel: true })).archive;
    adapterArchive = (await compress(text.subarray(0, 500), { model: MODEL, engine, lanes: 2, ctx: 128, forceModel: true, adapters: [{ path: LORA, scale: 0.5 }] })).archive;
    dir = tempDir();
  });
  afterAll(() => engine.close());

  /** The same archive through the real CLI: exit 1, exactly one line matching `pattern`, no output file. */
  function cliRejects(name: string, bytes: Uint8Array, pattern: RegExp, args: string[] = ["-m", MODEL]) {
    const file = path.join(dir, `${name}.llmz`);
    fs.writeFileSync(file, bytes);
    const r = llmzip(["d", "--threads", "1", ...args, file]);
    expect(r.status, r.stderr.toString()).toBe(1);
    expect(r.stderr.toString()).toMatch(/^llmzip: [^\n]+\n$/);
    expect(r.stderr.toString()).toMatch(pattern);
    expect(fs.existsSync(path.join(dir, name))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }

  it("the archive itself decodes exactly (the baseline of every row below)", async () => {
    expect(Buffer.compare(Buffer.from((await decompress(archive, { engine })).data), text)).toBe(0);
    expect(Buffer.compare(Buffer.from((await decompress(adapterArchive, { engine, adapters: [LORA] })).data), text.subarray(0, 500))).toBe(0);
  });

  it("other model: names the model needed and the file given", async () => {
    const e = await failure(decompress(archive, { model: SYNTH }));
    expect(e).toBeInstanceOf(MismatchError);
    expect(e.message).toMatch(/wrong model: the archive needs stories260K \(1\.2 MB, sha256 659643879ac6…\), but .*synth58M-Q8_0\.gguf is 62\.\d MB/);
    cliRejects("other-model", archive, /wrong model: the archive needs stories260K .*synth58M-Q8_0\.gguf/, ["-m", SYNTH]);
  });

  it("other quantization of the same model, both ways", async () => {
    const e = await failure(decompress(archive, { model: MODEL_Q8 }));
    expect(e).toBeInstanceOf(MismatchError);
    expect(e.message).toMatch(/needs stories260K \(1\.2 MB.*stories260K-Q8_0\.gguf is 0\.\d MB with sha256/);
    const q8 = LlamaEngine.open(MODEL_Q8, { gpu: "off", threads: 1 });
    try {
      const fromQ8 = (await compress(text.subarray(0, 400), { model: MODEL_Q8, engine: q8, forceModel: true })).archive;
      const back = await failure(decompress(fromQ8, { model: MODEL }));
      expect(back.message).toMatch(/needs stories260K.*0\.\d MB.*but .*stories260K\.gguf is 1\.2 MB/);
      cliRejects("other-quant", archive, /wrong model: .*stories260K-Q8_0\.gguf is 0\.\d MB/, ["-m", MODEL_Q8]);
    } finally {
      q8.close();
    }
  });

  it("other adapter: a missing one, a different file and a different scale are named", async () => {
    const none = await failure(decompress(adapterArchive, { engine }));
    expect(none).toBeInstanceOf(MismatchError);
    expect(none.message).toMatch(/needs adapter stories260K-lora-random\.gguf \([\d,]+ bytes, sha256 [0-9a-f]{12}…, scale 0\.5\).*pass it with --adapter PATH/);
    const other = path.join(dir, "other-lora.gguf");
    const bytes = fs.readFileSync(LORA);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(other, bytes);
    const wrong = await failure(decompress(adapterArchive, { engine, adapters: [other] }));
    expect(wrong.message).toMatch(/wrong adapter: the archive needs adapter stories260K-lora-random\.gguf .*none of the adapters given/);
    const scale = await failure(decompress(adapterArchive, { engine, adapters: [{ path: LORA, scale: 1 }] }));
    expect(scale).toBeInstanceOf(MismatchError);
    expect(scale.message).toMatch(/was applied with scale 0\.5 when this archive was made, not 1/);
    cliRejects("no-adapter", adapterArchive, /needs adapter stories260K-lora-random\.gguf .*scale 0\.5/);
    cliRejects("other-adapter", adapterArchive, /wrong adapter: .*stories260K-lora-random\.gguf/, ["-m", MODEL, "--adapter", other]);
    cliRejects("other-scale", adapterArchive, /scale 0\.5 when this archive was made, not 2/, ["-m", MODEL, "--adapter", `${LORA}:2`]);
  });

  it("other adapter scale written into the header: decoding names the scale it used", async () => {
    for (const scale of [1, 0.25]) {
      const forged = reserialize(adapterArchive, (h) => {
        h.adapterSets[0]![0]!.scale = scale;
      });
      const e = await failure(decompress(forged, { engine, adapters: [LORA] }));
      expect(e).toBeInstanceOf(CorruptArchiveError);
      expect(e.message).toMatch(new RegExp(`(fails its checksum when decoded by stories260K with adapters stories260K-lora-random\\.gguf x${scale} .*settings edited in the header|coded stream ends before its last token)`));
    }
    // A scale no encoder could have used makes the model's logits overflow: still an archive error.
    const absurd = reserialize(adapterArchive, (h) => {
      h.adapterSets[0]![0]!.scale = 1e300;
    });
    const e = await failure(decompress(absurd, { engine, adapters: [LORA] }));
    expect(e).toBeInstanceOf(CorruptArchiveError);
    expect(e.message).toMatch(/NaN or infinite logits with the archive's settings|fails its checksum/);
  });

  it("other lanes forced into the header: named in the error", async () => {
    const one = reserialize(archive, (h) => {
      h.settings!.lanes = 1;
      for (const s of h.streams) s.lanes = 1;
    });
    const e = await failure(decompress(one, { engine }));
    expect(e).toBeInstanceOf(CorruptArchiveError);
    expect(e.message).toMatch(/when decoded by stories260K with lanes 1, ctx 128 on cpu|coded stream ends before its last token/);
    const tooMany = reserialize(archive, (h) => {
      h.settings!.lanes = 300;
      for (const s of h.streams) s.lanes = 300;
    });
    expect((await failure(decompress(tooMany, { engine }))).message).toMatch(/300 lanes; llmzip codes with at most 256/);
    cliRejects("lanes", one, /lanes 1|ends before its last token/);
  });

  it("other context size forced into the header: too small, too large, or decoded and named", async () => {
    const small = reserialize(archive, (h) => {
      h.settings!.ctx = 32;
    });
    // Format 2 slides a lane's window, so any size decodes: with other logits, named, or caught at the stream's end.
    const tooSmall = await failure(decompress(small, { engine }));
    expect(tooSmall).toBeInstanceOf(CorruptArchiveError);
    expect(tooSmall.message).toMatch(/ctx 32|ends before its last token/);
    const large = reserialize(archive, (h) => {
      h.settings!.ctx = 4096;
    });
    const e = await failure(decompress(large, { engine }));
    expect(e).toBeInstanceOf(MismatchError);
    expect(e.message).toMatch(/context size \(4096 tokens\) is more than llmzip uses with this model \(at most 2048\)/);
    // A plausible size: the KV cache is larger, which may or may not change the logits; never a silent wrong output.
    const other = reserialize(archive, (h) => {
      h.settings!.ctx = 200;
    });
    try {
      expect(Buffer.compare(Buffer.from((await decompress(other, { engine })).data), text)).toBe(0);
    } catch (err) {
      expect((err as Error).message).toMatch(/ctx 200|ends before its last token/);
    }
    cliRejects("ctx", small, /ctx 32|ends before its last token/);
    cliRejects("ctx-large", large, /context size \(4096 tokens\)/);
  });

  it("other backend, KV cache, flash attention, mixer, start token: each named before decoding", async () => {
    const cases: [string, (h: Parameters<Parameters<typeof reserialize>[1]>[0]) => void, RegExp][] = [
      ["backend", (h) => (h.settings!.backend = "cuda"), /coded on the cuda backend; decoding on cpu would give other logits/],
      ["kv", (h) => (h.settings!.kvType = "q8_0"), /a q8_0 KV cache, which this llmzip does not offer/],
      ["flash", (h) => (h.settings!.flashAttention = true), /flash attention on/],
      ["mixer", (h) => (h.settings!.mixer = 7), /context-mixing configuration 7/],
      ["start", (h) => (h.settings!.startToken = 2), /starts chunks with token 2, this model with 1/],
      ["vocab", (h) => (h.settings!.vocabSize = 600), /vocabulary differs .*512 tokens, the archive's has 600/],
    ];
    for (const [name, edit, pattern] of cases) {
      const forged = reserialize(archive, edit);
      const e = await failure(decompress(forged, { engine }));
      expect(e, name).toBeInstanceOf(MismatchError);
      expect(e.message, name).toMatch(pattern);
    }
    // Through the CLI the model is opened on the archive's backend; where a GPU exists it decodes there and fails its checksums.
    const gpu = fs.existsSync("/proc/driver/nvidia/version");
    cliRejects("backend", reserialize(archive, cases[0]![1]), gpu ? /cuda backend and decodes only there|fails its checksum|ends before its last token/ : /archive was coded on the cuda backend and decodes only there: /);
    cliRejects("backend-unknown", reserialize(archive, (h) => (h.settings!.backend = "tpu")), /coded on the 'tpu' backend, which this llmzip does not know/);
  });

  it("a newer format version and unknown feature flags ask for an upgrade", async () => {
    const newer = archive.slice();
    newer[4] = FORMAT_VERSION + 1;
    const e = await failure(decompress(reChecksum(newer), { engine }));
    expect(e).toBeInstanceOf(UnsupportedFormatError);
    expect(e.message).toMatch(/archive format 3 is newer than this llmzip reads \(2\); upgrade llmzip/);
    cliRejects("newer", reChecksum(newer), /archive format 3 is newer than this llmzip reads \(2\); upgrade llmzip/);
    // Format 1 is llmzip 0.1's: the error names the release that reads it.
    const older = archive.slice();
    older[4] = 1;
    expect((await failure(decompress(reChecksum(older), { engine }))).message).toMatch(/archive format 1 was written by llmzip 0\.1\.x, which is needed to read it/);
  });

  it("no model given names the one needed; a model path that does not exist is a model error", async () => {
    const e = await failure(decompress(archive, {}));
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/needs the model stories260K \(1\.2 MB, sha256 659643879ac6…\); pass it with -m PATH or set LLMZIP_MODEL/);
    expect((await failure(decompress(archive, { model: path.join(dir, "missing.gguf") }))).message).toMatch(/model file not found: .*missing\.gguf/);
  });
});
