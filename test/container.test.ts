import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { ChunkMethod, FORMAT_VERSION, MAGIC, parseArchive, serializeArchive, type ArchiveBody, type ArchiveHeader } from "../src/container/format.js";
import { ByteReader, ByteWriter } from "../src/container/bytes.js";
import { CorruptArchiveError, UnsupportedFormatError } from "../src/errors.js";
import { plainArchive } from "../src/codec/compress.js";

const hash = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + seed) & 0xff);

/** A header that uses every feature of the format: model, settings, two adapter sets, two streams, all chunk methods, metadata. */
function fullArchive(): { header: ArchiveHeader; body: ArchiveBody } {
  const streams = [Uint8Array.from([1, 2, 3, 4, 5]), Uint8Array.from([9, 8, 7])];
  const blobs = [Uint8Array.from([0x0b, 0x02, 0x80, 0x61, 0x62, 0x03]), Uint8Array.from([0x41, 0x42, 0x43])];
  const header: ArchiveHeader = {
    mode: "lossless",
    originalLength: 10 + 20 + 5 + 3,
    originalCrc32: 0xdeadbeef,
    model: { name: "stories260K", size: 1185376, sha256: hash(1) },
    settings: { lanes: 16, ctx: 512, carry: 64, vocabSize: 512, startToken: 1, backend: "cpu", cpuVariant: "zen4", flashAttention: false, kvType: "f16", freqBits: 31, mixer: 0 },
    adapterSets: [[], [{ name: "logs.gguf", size: 4096, sha256: hash(2), scale: 0.75 }]],
    streams: [
      { adapterSet: 0, codedLength: streams[0]!.length, lanes: 3 },
      { adapterSet: 1, codedLength: streams[1]!.length, lanes: 16 },
    ],
    chunks: [
      { method: ChunkMethod.Llm, rawLength: 10, crc32: 1, stream: 0, tokenCount: 4, codedLength: 0 },
      { method: ChunkMethod.Llm, rawLength: 20, crc32: 2, stream: 1, tokenCount: 9, codedLength: 0 },
      { method: ChunkMethod.Brotli, rawLength: 5, crc32: 3, stream: 0, tokenCount: 0, codedLength: blobs[0]!.length },
      { method: ChunkMethod.Raw, rawLength: 3, crc32: 4, stream: 0, tokenCount: 0, codedLength: blobs[1]!.length },
    ],
    meta: { "lossy.rewriter": "test", a: "b" },
  };
  return { header, body: { streams, blobs } };
}

/** Every single-byte change and every truncation must be rejected with a typed archive error. */
function expectEveryDamageDetected(archive: Uint8Array): number {
  let cases = 0;
  const rejects = (bytes: Uint8Array) => {
    cases++;
    let err: unknown;
    try {
      parseArchive(bytes);
    } catch (e) {
      err = e;
    }
    expect(err instanceof CorruptArchiveError || err instanceof UnsupportedFormatError, `case ${cases}: ${String(err)}`).toBe(true);
  };
  for (let i = 0; i < archive.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const damaged = archive.slice();
      damaged[i] = (damaged[i] as number) ^ mask;
      rejects(damaged);
    }
  }
  for (let n = 0; n < archive.length; n++) rejects(archive.subarray(0, n));
  rejects(Uint8Array.from([...archive, 0]));
  return cases;
}

describe("container", () => {
  it("parses what it serialises, field for field", () => {
    const { header, body } = fullArchive();
    const bytes = serializeArchive(header, body);
    expect(Array.from(bytes.subarray(0, 4))).toEqual(Array.from(MAGIC));
    expect(bytes[4]).toBe(FORMAT_VERSION);
    const back = parseArchive(bytes);
    expect(back.header).toEqual(header);
    expect(back.body.streams.map((s) => Array.from(s))).toEqual(body.streams.map((s) => Array.from(s)));
    expect(back.body.blobs.map((s) => Array.from(s))).toEqual(body.blobs.map((s) => Array.from(s)));
  });

  it("detects every flipped byte, every truncation and trailing garbage", () => {
    const { header, body } = fullArchive();
    const cases = expectEveryDamageDetected(serializeArchive(header, body));
    expect(cases).toBeGreaterThan(500);
  });

  it("detects damage in compact archives (brotli, stored, empty)", () => {
    for (const data of [Buffer.from("hello hello hello hello hello hello"), Buffer.from([1, 2, 3]), Buffer.alloc(0)]) {
      const archive = plainArchive(data);
      expect(parseArchive(archive).header.originalLength).toBe(data.length);
      expectEveryDamageDetected(archive);
    }
  });

  it("says 'not an llmzip archive' for other files and 'newer' for a newer, intact format", () => {
    expect(() => parseArchive(Buffer.from("\x1f\x8b\x08\x00 gzip data"))).toThrow(/not an llmzip archive/);
    expect(() => parseArchive(new Uint8Array(0))).toThrow(/not an llmzip archive/);
    // A version byte changed with a matching CRC: an archive from the future, not damage.
    const { header, body } = fullArchive();
    const bytes = serializeArchive(header, body).slice();
    bytes[4] = FORMAT_VERSION + 1;
    const r = new ByteReader(bytes);
    r.pos = 5;
    const len = r.varint();
    const crcAt = r.pos + len;
    new DataView(bytes.buffer).setUint32(crcAt, zlib.crc32(bytes.subarray(0, crcAt)) >>> 0, true);
    expect(() => parseArchive(bytes)).toThrow(UnsupportedFormatError);
    expect(() => parseArchive(bytes)).toThrow(/newer than this llmzip reads/);
    // Format 1 (llmzip 0.1) is intact but not read here: the message names the release that reads it.
    bytes[4] = 1;
    new DataView(bytes.buffer).setUint32(crcAt, zlib.crc32(bytes.subarray(0, crcAt)) >>> 0, true);
    expect(() => parseArchive(bytes)).toThrow(/format 1 was written by llmzip 0\.1\.x, which is needed to read it/);
  });

  it("rejects headers whose fields are inconsistent, before any payload is touched", () => {
    const { header, body } = fullArchive();
    const bad = (mutate: (h: ArchiveHeader) => void) => {
      const h = structuredClone(header);
      mutate(h);
      return () => serializeArchive(h, body);
    };
    expect(bad((h) => (h.originalLength += 1))).toThrow(/do not add up/);
    expect(bad((h) => (h.chunks[0]!.stream = 5))).toThrow(/missing stream/);
    expect(bad((h) => (h.streams[1]!.adapterSet = 7))).toThrow(/missing adapter set/);
    expect(bad((h) => (h.settings!.startToken = 512))).toThrow(/start token/);
    expect(bad((h) => (h.chunks[0]!.tokenCount = 0))).toThrow(/empty model chunk/);
    expect(bad((h) => (h.chunks[0]!.tokenCount = 12))).toThrow(/more tokens than bytes/);
    expect(bad((h) => (h.streams[0]!.lanes = 17))).toThrow(/stream lanes/);
    expect(bad((h) => (h.streams[0]!.lanes = 0))).toThrow(/stream lanes/);
    expect(bad((h) => (h.settings!.carry = 511))).toThrow(/carried context/);
    expect(bad((h) => delete h.model)).toThrow(/model chunks without a model/);
  });
});

describe("byte reader", () => {
  it("round-trips varints and refuses overlong, oversized and truncated ones", () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter();
    for (const v of values) w.varint(v);
    const r = new ByteReader(w.finish());
    for (const v of values) expect(r.varint()).toBe(v);
    expect(r.remaining).toBe(0);
    expect(() => new ByteReader(Uint8Array.from([0x80, 0x00])).varint()).toThrow(/overlong/);
    expect(() => new ByteReader(Uint8Array.from([0x80])).varint()).toThrow(CorruptArchiveError);
    expect(() => new ByteReader(Uint8Array.from([0xff, 0x01])).varint("n", 100)).toThrow(/out of range/);
    expect(() => new ByteReader(Uint8Array.from([0x05, 0x61])).string()).toThrow(/runs past the end/);
  });
});
