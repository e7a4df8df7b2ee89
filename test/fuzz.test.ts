/**
 * Fuzzing of real archives: the quick mode of the harness in test/fuzz/.
 * `npm run fuzz -- --cases 10000` runs the same suite as the long mode
 * (LLMZIP_FUZZ_CASES / LLMZIP_FUZZ_SEED / LLMZIP_FUZZ_OUT).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkMethod, parseArchive } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { modelPath } from "./helpers/shared.js";
import { layoutOf } from "./fuzz/layout.js";
import { formatReport, judge, makeCase, runFuzz } from "./fuzz/run.js";
import { buildSeeds, type Seed } from "./fuzz/seeds.js";

const MODEL = modelPath("stories260K.gguf");
const CASES = Number(process.env.LLMZIP_FUZZ_CASES ?? 3000);
const RUN_SEED = Number(process.env.LLMZIP_FUZZ_SEED ?? 20261201);
/** Generous for a loaded 2-core machine: a hang is minutes, a slow honest case is well under a second. */
const CASE_MS = 20_000;
const RSS_LIMIT = 2 * 2 ** 30;

describe("fuzzed archives", () => {
  let engine: LlamaEngine;
  let seeds: Seed[];
  beforeAll(async () => {
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
    seeds = await buildSeeds(engine);
  });
  afterAll(() => engine.close());

  it("start from every kind of archive, and the field map covers each byte", () => {
    expect(seeds.map((s) => s.name)).toEqual(["empty", "brotli", "stored", "model", "mixed", "adapter", "streams"]);
    const mixed = parseArchive(seeds.find((s) => s.name === "mixed")!.archive).header;
    expect(new Set(mixed.chunks.map((c) => c.method))).toEqual(new Set([ChunkMethod.Llm, ChunkMethod.Brotli, ChunkMethod.Raw]));
    expect(parseArchive(seeds.find((s) => s.name === "streams")!.archive).header.streams.length).toBe(2);
    expect(parseArchive(seeds.find((s) => s.name === "adapter")!.archive).header.adapterSets[0]?.[0]?.scale).toBe(0.5);
    for (const s of seeds) {
      const l = layoutOf(s.archive);
      const covered = l.fields.reduce((n, f) => n + f.end - f.start, 0) + l.parts.reduce((n, p) => n + p.end - p.start, 0);
      expect(covered, s.name).toBe(s.archive.length);
    }
  });

  it(
    `${CASES} mutated, truncated and forged archives each end in the original or one clean error, in bounded time and memory`,
    async () => {
      const out = process.env.LLMZIP_FUZZ_OUT;
      if (out) fs.mkdirSync(out, { recursive: true });
      const report = await runFuzz({
        cases: CASES,
        seed: RUN_SEED,
        engine,
        seeds,
        caseMs: CASE_MS,
        rssLimit: RSS_LIMIT,
        onFailure: (f, bytes) => {
          if (out) fs.writeFileSync(path.join(out, `case-${RUN_SEED}-${f.index}.llmz`), bytes);
        },
      });
      console.log(formatReport(report));
      expect(report.failures).toEqual([]);
      expect(report.cases).toBe(CASES);
      // The run must reach every layer: exact survivors, each error class, and the model itself.
      expect(report.exact).toBeGreaterThan(0);
      expect(report.byError.CorruptArchiveError ?? 0).toBeGreaterThan(CASES / 4);
      expect(report.byError.MismatchError ?? 0).toBeGreaterThan(0);
      expect(report.modelCases).toBeGreaterThan(CASES / 50);
    },
    Math.max(120_000, CASES * 1_000),
  );

  it("a sample of the same cases through the real CLI: exit 0 with the original or exit 1 with one line, never a partial file", async () => {
    const dir = tempDir();
    let ran = 0;
    const outcomes = new Set<number>();
    // Cases of the run above that reach different layers; each spawns the CLI once.
    for (let i = 0; ran < 12 && i < 400; i++) {
      const { seed, mutant } = makeCase(RUN_SEED, i, seeds);
      const lib = await judge(mutant, seed, engine, CASE_MS);
      if (ran >= 6 && lib.outcome === "CorruptArchiveError" && !lib.model) continue; // enough header-level rejections
      ran++;
      const file = path.join(dir, `c${i}.llmz`);
      fs.writeFileSync(file, mutant.bytes);
      const args = ["d", "--threads", "1", "-m", MODEL, ...seed.adapters.flatMap((a) => ["--adapter", a]), file];
      const r = llmzip(args);
      outcomes.add(r.status ?? -1);
      const output = path.join(dir, `c${i}`);
      if (lib.outcome === "exact") {
        expect(r.status, `case ${i} ${mutant.detail}: ${r.stderr}`).toBe(0);
        expect(Buffer.compare(fs.readFileSync(output), Buffer.from(seed.original))).toBe(0);
      } else {
        expect(r.status, `case ${i} ${mutant.detail}: ${r.stderr}`).toBe(1);
        expect(r.stderr.toString()).toMatch(/^llmzip: [^\n]+\n$/);
        expect(fs.existsSync(output)).toBe(false);
      }
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    }
    expect(ran).toBe(12);
    expect(outcomes.has(1)).toBe(true);
  });
});
