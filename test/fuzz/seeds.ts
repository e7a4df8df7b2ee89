/**
 * The real archives the fuzzer starts from: each kind of archive the format
 * has (compact brotli, compact stored, empty, model-coded, mixed methods,
 * with an adapter, several streams), small enough that decoding one with
 * stories260K takes a fraction of a second.
 */
import fs from "node:fs";
import { compress, plainArchive } from "../../src/codec/compress.js";
import { decompress } from "../../src/codec/decompress.js";
import { crc32 } from "../../src/util/bytes.js";
import { parseArchive, serializeArchive, type ArchiveHeader } from "../../src/container/format.js";
import type { LlamaEngine } from "../../src/engine/engine.js";
import { corpusPath, modelPath } from "../helpers/shared.js";
import { rng } from "./mutate.js";

export interface Seed {
  name: string;
  archive: Uint8Array;
  original: Uint8Array;
  /** Adapter files decompress needs for this archive. */
  adapters: string[];
  /** True when decoding needs the model (so a case may take model time). */
  model: boolean;
}

const STORY =
  "Once upon a time, there was a little girl named Lily. She loved to play in the park with her ball.\n" +
  "One day, she saw a big dog. The dog was sad. Lily said, \"Do you want to play with me?\"\n" +
  "The dog wagged its tail and they played all day. They were very happy.\n";

/** Two model archives with the same settings merged into one with two streams (the format allows several). */
function mergeStreams(a: Uint8Array, b: Uint8Array, dataA: Uint8Array, dataB: Uint8Array): Uint8Array {
  const x = parseArchive(a);
  const y = parseArchive(b);
  if (!x.header.settings || !y.header.settings || x.header.settings.lanes !== y.header.settings.lanes) throw new Error("seed archives must share their settings");
  const header: ArchiveHeader = {
    ...structuredClone(x.header),
    originalLength: dataA.length + dataB.length,
    originalCrc32: crc32(Buffer.concat([dataA, dataB])),
    streams: [...x.header.streams, ...y.header.streams],
    chunks: [...x.header.chunks, ...y.header.chunks.map((c) => ({ ...c, stream: c.stream + x.header.streams.length }))],
  };
  return serializeArchive(header, { streams: [...x.body.streams, ...y.body.streams], blobs: [...x.body.blobs, ...y.body.blobs] });
}

/** Builds every seed with one loaded stories260K engine, and checks that each decodes exactly. */
export async function buildSeeds(engine: LlamaEngine): Promise<Seed[]> {
  const model = engine.modelPath;
  const lora = modelPath("stories260K-lora-random.gguf");
  const r = rng(42);
  const story = Buffer.from(STORY);
  const random = Buffer.from(Array.from({ length: 300 }, () => Math.floor(r() * 256)));
  // Text around a compressible binary piece (brotli) and an incompressible one (stored).
  const mixed = Buffer.concat([story.subarray(0, 100), Buffer.from("abcabcabc\x00\x01".repeat(8)), story.subarray(100, 200), random.subarray(0, 120), story.subarray(200), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a])]);
  const seeds: Seed[] = [];
  const add = async (name: string, archive: Uint8Array, original: Uint8Array, adapters: string[] = []) => {
    const back = await decompress(archive, { engine, adapters });
    if (Buffer.compare(Buffer.from(back.data), Buffer.from(original)) !== 0) throw new Error(`seed ${name} does not round-trip`);
    seeds.push({ name, archive, original, adapters, model: Boolean(back.header.model) });
  };
  const coded = async (data: Uint8Array, lanes: number, adapters: { path: string; scale: number }[] = []) =>
    (await compress(data, { model, engine, lanes, ctx: 48, forceModel: true, adapters })).archive;

  await add("empty", plainArchive(new Uint8Array(0)), new Uint8Array(0));
  await add("brotli", plainArchive(Buffer.from(fs.readFileSync(corpusPath("misc/gettysburg.txt")).subarray(0, 800))), fs.readFileSync(corpusPath("misc/gettysburg.txt")).subarray(0, 800));
  await add("stored", plainArchive(random), random);
  await add("model", await coded(story, 3), story);
  await add("mixed", await coded(mixed, 2), mixed);
  const short = story.subarray(0, 140);
  await add("adapter", await coded(short, 2, [{ path: lora, scale: 0.5 }]), short, [lora]);
  const tail = story.subarray(140);
  await add("streams", mergeStreams(await coded(short, 2), await coded(tail, 2), short, tail), Buffer.concat([short, tail]));
  return seeds;
}
