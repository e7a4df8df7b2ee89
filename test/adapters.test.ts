import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAdapter } from "../src/cli/adapter-options.js";
import { chooseAdapterSets } from "../src/codec/adapter-choice.js";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { inspectArchive } from "../src/codec/inspect.js";
import { FORMAT_VERSION } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { MismatchError, ModelError } from "../src/errors.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { writePerturbedAdapter } from "./helpers/gguf.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const RANDOM = modelPath("stories260K-lora-random.gguf");

/** English prose, a log and digits: text on which two random adapters win different chunks. */
function mixedText(): Buffer {
  return Buffer.concat([
    fs.readFileSync(corpusPath("canterbury/alice29.txt")).subarray(0, 3000),
    fs.readFileSync(corpusPath("misc/pi.txt")).subarray(0, 1500),
    fs.readFileSync(corpusPath("loghub/Apache_2k.log")).subarray(0, 2500),
  ]);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

let dir: string;
/** A second adapter: the random one with every weight scaled by a factor in [0.5, 1.5). */
let other: string;
/** A folder holding copies of both adapters. */
let adaptersDir: string;

beforeAll(() => {
  dir = tempDir("llmzip-adapters-");
  other = path.join(dir, "other.gguf");
  writePerturbedAdapter(RANDOM, other, 7);
  adaptersDir = path.join(dir, "adapters");
  fs.mkdirSync(adaptersDir);
  fs.copyFileSync(RANDOM, path.join(adaptersDir, "random.gguf"));
  fs.copyFileSync(other, path.join(adaptersDir, "other.gguf"));
});

describe("--adapter values", () => {
  it("parses PATH, PATH:SCALE and auto", () => {
    expect(parseAdapter("a.gguf")).toEqual([{ path: "a.gguf" }]);
    expect(parseAdapter("a.gguf:0.5", [{ path: "b.gguf" }])).toEqual([{ path: "b.gguf" }, { path: "a.gguf", scale: 0.5 }]);
    expect(parseAdapter("dir/a.gguf:-.25")).toEqual([{ path: "dir/a.gguf", scale: -0.25 }]);
    expect(parseAdapter("a.gguf:1e-1")).toEqual([{ path: "a.gguf", scale: 0.1 }]);
    expect(parseAdapter("auto")).toEqual(["auto"]);
    const colon = path.join(tempDir(), "x:2");
    fs.writeFileSync(colon, "");
    expect(parseAdapter(colon)).toEqual([{ path: colon }]);
  });
});

describe("adapter choice (scripted trial bits)", () => {
  /** An engine whose trial runs return fixed bits per candidate, by the first adapter's path. */
  function scriptedEngine(bits: Record<string, number[]>) {
    let current = "";
    const configured: string[] = [];
    const engine = {
      configure(s: { adapters: { path: string }[] }) {
        current = s.adapters[0]?.path ?? "none";
        if (current === "broken") throw new ModelError("broken is not a LoRA adapter");
        configured.push(current);
      },
      async encode(chunks: Int32Array[]) {
        const b = bits[current] as number[];
        return { stream: Buffer.alloc(0), stats: { tokens: chunks.reduce((n, c) => n + c.length, 0), chunkBits: Float64Array.from(b) } };
      },
    };
    return { engine: engine as unknown as LlamaEngine, configured };
  }
  const chunks = [new Int32Array(100), new Int32Array(100), new Int32Array(100), new Int32Array(400)];
  const lane = { lanes: 4, ctx: 512, flashAttention: false, kvType: "f16" };
  const set = (p: string) => [{ path: p, scale: 1 }];

  it("takes each chunk's cheapest set, drops sets that do not pay for their header entry, skips broken candidates", async () => {
    const { engine, configured } = scriptedEngine({
      none: [500, 500, 500, 500],
      big: [100, 100, 600, 600], // saves 800 bits on chunks 0-1: kept
      tiny: [600, 600, 600, 499], // best on chunk 3 by 1 bit (x4 for its length): not worth a set
    });
    const warnings: string[] = [];
    const trial = await chooseAdapterSets(engine, chunks, { candidates: [[], set("big"), set("broken"), set("tiny")], trialTokens: 100 }, { lane, onWarning: (w) => warnings.push(w) });
    expect(configured).toEqual(["none", "big", "tiny"]);
    expect(warnings).toEqual([expect.stringMatching(/skipping adapter candidate broken: broken is not a LoRA adapter/)]);
    expect(trial.sets).toEqual([[], set("big")]);
    expect(trial.choice).toEqual([1, 1, 0, 0]);
    expect(trial.candidates.map((c) => [c.loaded, c.chosen])).toEqual([
      [true, 2],
      [true, 2],
      [false, 0],
      [true, 0],
    ]);
  });

  it("keeps a small saving when it is made over a long chunk, and prefers the earlier candidate on ties", async () => {
    const { engine } = scriptedEngine({ none: [500, 500, 500, 500], tiny: [600, 600, 600, 400], same: [500, 500, 500, 500] });
    const trial = await chooseAdapterSets(engine, chunks, { candidates: [[], set("tiny")], trialTokens: 50 }, { lane });
    // 100 bits on a 50-token trial of a 400-token chunk: ~800 bits, more than one set's entry.
    expect(trial.sets).toEqual([[], set("tiny")]);
    expect(trial.choice).toEqual([0, 0, 0, 1]);
    const tie = await chooseAdapterSets(engine, chunks, { candidates: [[], set("same")] }, { lane });
    expect(tie.sets).toEqual([[]]);
    expect(tie.choice).toEqual([0, 0, 0, 0]);
  });

  it("with a single candidate runs no trial", async () => {
    const { engine, configured } = scriptedEngine({});
    const trial = await chooseAdapterSets(engine, chunks, { candidates: [set("only")] }, { lane });
    expect(configured).toEqual([]);
    expect(trial.choice).toEqual([0, 0, 0, 0]);
  });
});

describe("compress and decompress with adapters (stories260K)", () => {
  let engine: LlamaEngine;
  const data = mixedText();
  beforeAll(() => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(() => engine.close());

  it("one adapter: round trip is byte-exact, the header records it, and it changes the coding", async () => {
    const plain = await compress(data, { model: MODEL, engine, forceModel: true });
    const { archive } = await compress(data, { model: MODEL, engine, forceModel: true, adapters: [{ path: RANDOM, scale: 1 }] });
    expect(same(archive, plain.archive)).toBe(false);
    const info = inspectArchive(archive, FORMAT_VERSION);
    expect(info.adapterSets).toEqual([[expect.objectContaining({ name: "stories260K-lora-random.gguf", size: fs.statSync(RANDOM).size, scale: 1 })]]);
    expect(same((await decompress(archive, { engine, adapters: [RANDOM] })).data, data)).toBe(true);
    await expect(decompress(archive, { engine })).rejects.toThrow(MismatchError);
  });

  it("two adapters with scales: round trip in any order; another scale is refused", async () => {
    const { archive } = await compress(data, { model: MODEL, engine, forceModel: true, adapters: [{ path: RANDOM, scale: 0.5 }, { path: other, scale: -0.25 }] });
    const info = inspectArchive(archive, FORMAT_VERSION);
    expect(info.adapterSets[0]?.map((a) => [a.name, a.scale])).toEqual([
      ["stories260K-lora-random.gguf", 0.5],
      ["other.gguf", -0.25],
    ]);
    const back = await decompress(archive, { engine, adapters: [other, { path: RANDOM, scale: 0.5 }] });
    expect(same(back.data, data)).toBe(true);
    await expect(decompress(archive, { engine, adapters: [other, { path: RANDOM, scale: 0.7 }] })).rejects.toThrow(/scale 0\.5 .*not 0\.7/);
    await expect(decompress(archive, { engine, adapters: [RANDOM] })).rejects.toThrow(/needs adapter other\.gguf/);
  });

  it("auto: each chunk gets the set that won its trial, one stream per set; the decoder rebuilds every stream", async () => {
    const warnings: string[] = [];
    const { archive, stats } = await compress(data, {
      model: MODEL,
      engine,
      forceModel: true,
      lanes: 4,
      adapterChoice: { candidates: [[{ path: RANDOM, scale: 1 }], [{ path: other, scale: 1 }]], trialTokens: 64 },
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([]);
    const trial = stats.adapterTrial;
    expect(trial).toBeDefined();
    if (!trial) return;
    // Both random adapters are bad, each in its own way: on this text each wins some chunks.
    expect(stats.streams.length).toBe(2);
    const info = inspectArchive(archive, FORMAT_VERSION);
    expect(info.adapterSets.map((s) => s.map((a) => a.name))).toEqual([["stories260K-lora-random.gguf"], ["other.gguf"]]);
    const perChunk = info.chunkTable.filter((c) => c.method === "model").map((c) => c.adapterSet);
    // Neighbouring pieces that chose the same set are one chunk in the table.
    const runs = trial.choice.filter((s, i) => i === 0 || s !== trial.choice[i - 1]);
    expect(perChunk).toEqual(runs);
    // The streams' chunks interleave in the input (not all of one set, then all of the other).
    expect(perChunk.join("")).not.toMatch(/^0*1*$/);
    expect(same((await decompress(archive, { engine, adaptersDirs: [adaptersDir] })).data, data)).toBe(true);
    await expect(decompress(archive, { engine, adapters: [RANDOM] })).rejects.toThrow(/needs adapter other\.gguf/);

    const file = path.join(dir, "two-streams.llmz");
    fs.writeFileSync(file, archive);
    const text = llmzip(["info", file]).stdout.toString();
    expect(text).toMatch(/adapters #0 +stories260K-lora-random\.gguf x1 .*: \d+ chunks?, [\d,]+ bytes/);
    expect(text).toMatch(/adapters #1 +other\.gguf x1 .*: \d+ chunks?, [\d,]+ bytes/);
    expect(text).toMatch(/chunk coding +1(-\d+)? adapters #\d \([\d,]+ B\)\n/);
    const json = JSON.parse(llmzip(["info", "--json", file]).stdout.toString());
    expect(json.chunkTable.filter((c: { method: string }) => c.method === "model").map((c: { adapterSet: number }) => c.adapterSet)).toEqual(runs);
  });

  it("auto on text the adapters only hurt: no adapter anywhere, and the very archive of a run without adapters", async () => {
    const story = fs.readFileSync(corpusPath("misc/gettysburg.txt"));
    const plain = await compress(story, { model: MODEL, engine, forceModel: true });
    const auto = await compress(story, { model: MODEL, engine, forceModel: true, adapterChoice: { candidates: [[], [{ path: RANDOM, scale: 1 }], [{ path: other, scale: 1 }]] } });
    expect(auto.stats.adapterTrial?.sets).toEqual([[]]);
    expect(same(auto.archive, plain.archive)).toBe(true);
  });

  it("refuses a missing adapter file and a GGUF that is not an adapter, before coding", async () => {
    await expect(compress(data, { model: MODEL, engine, adapters: [{ path: path.join(dir, "nope.gguf"), scale: 1 }] })).rejects.toThrow(/adapter file not found/);
    await expect(compress(data, { model: MODEL, engine, adapters: [{ path: MODEL, scale: 1 }] })).rejects.toThrow(/is not a LoRA adapter/);
  });
});

describe("adapters on the command line", () => {
  const env = { LLMZIP_MODEL: MODEL, LLMZIP_ADAPTERS: "" };
  let work: string;
  let input: string;
  let data: Buffer;

  beforeAll(() => {
    work = tempDir("llmzip-adapters-cli-");
    input = path.join(work, "mixed.txt");
    data = mixedText().subarray(0, 4000);
    fs.writeFileSync(input, data);
    const c = llmzip(["c", "--threads", "1", "--force-model", "--adapter", `${RANDOM}:0.5`, "--adapter", `${other}:-0.25`, input], { env });
    expect(c.stderr.toString()).toBe("");
    expect(c.status).toBe(0);
  });

  /** Decompresses with extra flags to `out`, expecting a one-line error, exit 1 and no output at all. */
  function refused(extra: string[], pattern: RegExp) {
    const out = path.join(work, "refused.txt");
    const r = llmzip(["d", "--threads", "1", "-o", out, ...extra, `${input}.llmz`], { env });
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toMatch(/^llmzip: [^\n]+\n$/);
    expect(r.stderr.toString()).toMatch(pattern);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(work).filter((f) => f.includes(".tmp"))).toEqual([]);
  }

  it("two adapters with scales round-trip; the scales may be left out on decompress", () => {
    const out = path.join(work, "back.txt");
    const d = llmzip(["d", "--threads", "1", "-o", out, "--adapter", other, "--adapter", `${RANDOM}:0.5`, `${input}.llmz`], { env });
    expect(d.stderr.toString()).toBe("");
    expect(d.status).toBe(0);
    expect(same(fs.readFileSync(out), data)).toBe(true);
  });

  it("a missing adapter is a one-line error, exit 1, no output", () => {
    refused([], /this archive needs adapter stories260K-lora-random\.gguf .*scale 0\.5.*--adapter PATH/);
    refused(["--adapter", other], /needs adapter stories260K-lora-random\.gguf/);
    refused(["--adapter", path.join(work, "nope.gguf")], /adapter file not found/);
  });

  it("a different adapter under the same name is named as such", () => {
    const impostorDir = path.join(work, "impostor");
    fs.mkdirSync(impostorDir, { recursive: true });
    const impostor = path.join(impostorDir, "stories260K-lora-random.gguf");
    writePerturbedAdapter(RANDOM, impostor, 99);
    refused(["--adapter", impostor, "--adapter", other], /wrong adapter: .*stories260K-lora-random\.gguf has sha256 .*made with adapter stories260K-lora-random\.gguf/);
  });

  it("a different scale is refused", () => {
    refused(["--adapter", `${RANDOM}:0.7`, "--adapter", other], /scale 0\.5 when this archive was made, not 0\.7/);
  });

  it("--adapters-dir and LLMZIP_ADAPTERS find adapters by fingerprint", () => {
    const viaDir = llmzip(["d", "--threads", "1", "-c", "--adapters-dir", adaptersDir, `${input}.llmz`], { env });
    expect(viaDir.status).toBe(0);
    expect(same(viaDir.stdout, data)).toBe(true);
    const viaEnv = llmzip(["d", "--threads", "1", "-c", `${input}.llmz`], { env: { ...env, LLMZIP_ADAPTERS: `${adaptersDir}${path.delimiter}${path.join(work, "gone")}` } });
    expect(viaEnv.status).toBe(1);
    expect(viaEnv.stderr.toString()).toMatch(/^llmzip: adapters folder not found or not readable: .*gone\n$/);
    const viaEnvOk = llmzip(["d", "--threads", "1", "-c", `${input}.llmz`], { env: { ...env, LLMZIP_ADAPTERS: adaptersDir } });
    expect(viaEnvOk.status).toBe(0);
    expect(same(viaEnvOk.stdout, data)).toBe(true);
  });

  it("--adapter auto --adapters-dir round-trips, and decompress finds the adapters the same way", () => {
    const archive = path.join(work, "auto.llmz");
    const c = llmzip(["c", "--threads", "1", "--force-model", "--adapter", "auto", "--adapters-dir", adaptersDir, "--trial-tokens", "64", "-o", archive, input], { env });
    expect(c.stderr.toString()).toBe("");
    expect(c.status).toBe(0);
    const d = llmzip(["d", "--threads", "1", "-c", "--adapters-dir", adaptersDir, archive], { env });
    expect(d.status).toBe(0);
    expect(same(d.stdout, data)).toBe(true);
  });

  it("usage errors: auto without candidates, --adapters-dir without auto, auto on decompress", () => {
    const noCandidates = llmzip(["c", "--threads", "1", "--adapter", "auto", "-c", input], { env });
    expect(noCandidates.status).toBe(2);
    expect(noCandidates.stderr.toString()).toMatch(/^llmzip: --adapter auto needs candidates/);
    const stray = llmzip(["c", "--threads", "1", "--adapters-dir", adaptersDir, "-c", input], { env });
    expect(stray.status).toBe(2);
    const autoBack = llmzip(["d", "--threads", "1", "--adapter", "auto", "-c", `${input}.llmz`], { env });
    expect(autoBack.status).toBe(2);
    expect(autoBack.stdout.length).toBe(0);
  });

  it("an adapter made for another model is refused with a one-line error", () => {
    const r = llmzip(["c", "--threads", "1", "-m", modelPath("synth58M-Q8_0.gguf"), "--adapter", RANDOM, "-c", input], { env });
    expect(r.status).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.toString()).toMatch(/^llmzip: .*stories260K-lora-random\.gguf is a LoRA adapter for another model \([^\n]*\)\n$/);
  });

  it("info lists the adapters of the archive with their scales", () => {
    const single = llmzip(["info", `${input}.llmz`]).stdout.toString();
    expect(single).toMatch(/adapters #0 +stories260K-lora-random\.gguf x0\.5 .* \+ other\.gguf x-0\.25 .*: \d+ chunks?/);
  });
});
