import { describe, expect, it } from "vitest";
import { cutPoint, looksBinary, planChunks, type Tokenizer } from "../src/codec/chunker.js";

/** One token per byte, except that byte 0xFE does not survive detokenization. */
const byteTokenizer: Tokenizer = {
  tokenize: (bytes) => Int32Array.from(bytes),
  detokenize: (tokens) => Uint8Array.from(tokens, (t) => (t === 0xfe ? 0x3f : t)),
};

function covers(data: Uint8Array, chunks: { start: number; end: number }[]) {
  let pos = 0;
  for (const c of chunks) {
    expect(c.start).toBe(pos);
    expect(c.end).toBeGreaterThan(c.start);
    pos = c.end;
  }
  expect(pos).toBe(data.length);
}

describe("chunk planning", () => {
  const text = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} of some text\n`).join(""));

  it("covers the input exactly, respects maxTokens and cuts after newlines", () => {
    const chunks = planChunks(text, byteTokenizer, { maxTokens: 300 });
    covers(text, chunks);
    for (const c of chunks) {
      expect(c.tokens?.length).toBe(c.end - c.start);
      expect(c.end - c.start).toBeLessThanOrEqual(300);
      if (c.end < text.length) expect(text[c.end - 1]).toBe(0x0a);
    }
    expect(chunks.length).toBeGreaterThan(text.length / 300);
  });

  it("sends binary pieces and bytes that do not round-trip to the fallback, merged", () => {
    const data = Buffer.concat([text.subarray(0, 2000), Buffer.alloc(3000, 0), text.subarray(0, 500), Buffer.from([0x41, 0xfe, 0x42]), text.subarray(0, 500)]);
    const chunks = planChunks(data, byteTokenizer, { maxTokens: 256 });
    covers(data, chunks);
    const fallback = chunks.filter((c) => !c.tokens);
    expect(fallback.length).toBeGreaterThanOrEqual(2);
    // No two fallback chunks touch: neighbours are merged.
    for (let i = 1; i < chunks.length; i++) expect(!chunks[i]?.tokens && !chunks[i - 1]?.tokens).toBe(false);
    const bad = data.indexOf(0xfe);
    const holder = chunks.find((c) => c.start <= bad && bad < c.end);
    expect(holder?.tokens).toBeUndefined();
    expect((holder?.end ?? 0) - (holder?.start ?? 0)).toBeLessThanOrEqual(128);
    for (const c of chunks) if (c.tokens) expect(Buffer.from(byteTokenizer.detokenize(c.tokens)).equals(data.subarray(c.start, c.end))).toBe(true);
  });

  it("handles empty input, one long line, and multi-byte characters at cuts", () => {
    expect(planChunks(new Uint8Array(0), byteTokenizer, { maxTokens: 10 })).toEqual([]);
    const line = Buffer.from("é".repeat(1000));
    const chunks = planChunks(line, byteTokenizer, { maxTokens: 101 });
    covers(line, chunks);
    for (const c of chunks) expect((line[c.start] as number) & 0xc0).not.toBe(0x80);
  });

  it("cutPoint prefers a newline in the back half", () => {
    const d = Buffer.from("aaaa\nbbbbbbbb\ncc");
    expect(cutPoint(d, 0, 15)).toBe(14);
    expect(cutPoint(d, 0, 12)).toBe(12);
    expect(cutPoint(d, 0, 9)).toBe(5);
    expect(cutPoint(d, 0, 3)).toBe(3);
    expect(cutPoint(d, 0, 100)).toBe(d.length);
  });

  it("looksBinary flags NUL and control-heavy data only", () => {
    expect(looksBinary(Buffer.from("plain text\twith tabs\r\n"))).toBe(false);
    expect(looksBinary(Buffer.from([65, 0, 66]))).toBe(true);
    expect(looksBinary(Buffer.from([1, 2, 3, 4, 65, 66]))).toBe(true);
  });
});
