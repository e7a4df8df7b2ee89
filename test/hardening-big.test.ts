/**
 * Large inputs with bounded memory, at sizes CI can afford on two cores:
 * 50 MB through the real CLI on the brotli path (the model path codes about
 * 8,000 tokens/s with stories260K, hours for 50 MB: `npm run stress` is the
 * long mode for that), a single 10 MB line through the chunker, and a long
 * single line through the model. Peak RSS is measured on the CLI process.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planChunks } from "../src/codec/chunker.js";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { tempDir } from "./helpers/cli.js";
import { llmzipMeasured, mib } from "./helpers/rss.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const env = { LLMZIP_MODEL: MODEL };
const MB = 1_000_000;

/** Binary (NUL bytes) that brotli -q 11 gets through in seconds: a 4 KiB block of noise, repeated. */
function repetitiveBinary(n: number): Buffer {
  let s = 1;
  const unit = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 8 === 0 ? 0 : (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24)));
  const b = Buffer.alloc(n);
  for (let off = 0; off < n; off += unit.length) unit.copy(b, off);
  return b;
}

/** One line of text without a newline: the corpus with its line ends turned into spaces, plus some multi-byte UTF-8. */
function singleLine(n: number): Buffer {
  const src = fs.readFileSync(corpusPath("canterbury/alice29.txt")).toString("latin1").replace(/[\r\n]+/g, " ");
  const unit = Buffer.from(`${src} caf\u00e9 na\u00efve \u4e2d\u6587 \u{1F600} `);
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += unit.length) unit.copy(out, off, 0, Math.min(unit.length, n - off));
  // End on a whole character.
  let end = n;
  while (end > 0 && ((out[end - 1] as number) & 0xc0) === 0x80) end--;
  if (end > 0 && (out[end - 1] as number) >= 0xc0) end--;
  return out.subarray(0, end);
}

describe("large inputs", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(
    "50 MB through the CLI (brotli path): exact round trip, peak RSS bounded",
    () => {
      const input = path.join(dir, "big.bin");
      const data = repetitiveBinary(50 * MB);
      fs.writeFileSync(input, data);
      const c = llmzipMeasured(["c", "--threads", "1", input], { env });
      expect(c.status, c.stderr).toBe(0);
      const d = llmzipMeasured(["d", "--threads", "1", "-o", path.join(dir, "back.bin"), `${input}.llmz`], { env });
      expect(d.status, d.stderr).toBe(0);
      expect(fs.readFileSync(path.join(dir, "back.bin")).equals(data)).toBe(true);
      console.log(`50 MB binary: compress ${c.seconds.toFixed(1)} s, peak RSS ${mib(c.peakRss)}; decompress ${d.seconds.toFixed(1)} s, peak RSS ${mib(d.peakRss)}; archive ${fs.statSync(`${input}.llmz`).size} bytes`);
      // Input, output and brotli's window: a few times the input, not more.
      expect(c.peakRss).toBeLessThan(8 * 50 * MB);
      expect(d.peakRss).toBeLessThan(5 * 50 * MB);
    },
    300_000,
  );

  describe("with the model", () => {
    let engine: LlamaEngine;
    beforeAll(() => {
      engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    });
    afterAll(() => engine.close());

    it("a single 10 MB line is cut into whole-character chunks that fit the context", () => {
      const line = singleLine(10 * MB);
      const before = process.memoryUsage.rss();
      const t0 = performance.now();
      const plan = planChunks(line, engine, { maxTokens: 512 });
      const seconds = (performance.now() - t0) / 1000;
      const grown = process.memoryUsage.rss() - before;
      let pos = 0;
      let tokens = 0;
      for (const c of plan) {
        expect(c.start).toBe(pos);
        pos = c.end;
        const piece = line.subarray(c.start, c.end);
        // No cut inside a UTF-8 sequence: each piece decodes and re-encodes to itself.
        expect(Buffer.from(piece.toString("utf8")).equals(piece)).toBe(true);
        if (c.tokens) {
          expect(c.tokens.length).toBeLessThanOrEqual(512);
          tokens += c.tokens.length;
        }
      }
      expect(pos).toBe(line.length);
      expect(plan.filter((c) => c.tokens).length).toBeGreaterThan(plan.length * 0.99);
      console.log(`10 MB single line: ${plan.length} chunks, ${tokens} tokens, planned in ${seconds.toFixed(1)} s, RSS +${mib(grown)}`);
      // Tokens are 4 bytes each: about 4x the input, and nothing quadratic.
      expect(grown).toBeLessThan(12 * 10 * MB);
    });

    it("a 24 KB single line round-trips through the model", async () => {
      const line = singleLine(24_000);
      const { archive, stats } = await compress(line, { model: MODEL, engine, forceModel: true });
      // One chunk, its tokens cut into lane spans that each slide through many windows.
      expect(stats.modelChunks).toBe(1);
      expect(stats.lanes?.tokens).toBeGreaterThan(10 * 512);
      const back = await decompress(archive, { engine });
      expect(Buffer.compare(Buffer.from(back.data), line)).toBe(0);
    });
  });
});
