import { describe, expect, it } from "vitest";
import { lossyInfo, lossyLabel } from "../src/lossy/archive.js";
import { alignWords, isWordSubsequence, pruneText, sentenceOf, splitWords, PRUNE_POLICIES, SENTENCE_MIN_TOKENS, type ScoredToken } from "../src/lossy/prune.js";
import { alignedOffset } from "../src/lossy/information.js";
import { pruneSetup, rewriterSpec, lossyNote, lossyLines } from "../src/cli/lossy.js";
import { pruneTotals, type PruneBenchReport, type PruneFileResult } from "../src/bench/prune.js";
import { renderPruneChart, renderPruneTable } from "../src/bench/prune-report.js";
import { CorruptArchiveError, UsageError } from "../src/errors.js";

const enc = (s: string) => Buffer.from(s, "utf8");
const dec = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** One token per word, with its leading whitespace, scored by a table (else 1 bit): a model-free stand-in for scoreText. */
function tokensOf(text: string, bits: (word: string, i: number) => number = () => 1): ScoredToken[] {
  const out: ScoredToken[] = [];
  const data = enc(text);
  let prev = 0;
  splitWords(data).forEach((w, i) => {
    out.push({ start: prev, end: w.end, bits: bits(dec(data.subarray(w.start, w.end)), i) });
    prev = w.end;
  });
  if (prev < data.length) out.push({ start: prev, end: data.length, bits: 0.5 });
  return out;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

describe("splitting into words", () => {
  it("finds runs of non-whitespace bytes, multi-byte characters whole", () => {
    const data = enc("  héllo\twörld\n\n日本 x ");
    expect(splitWords(data).map((w) => dec(data.subarray(w.start, w.end)))).toEqual(["héllo", "wörld", "日本", "x"]);
    expect(splitWords(enc(" \n\t "))).toEqual([]);
  });
});

describe("pruning words by score", () => {
  const text = "The cat sat on the mat. Zebras quietly juggle purple anvils.\n\nThe end of the story.\n";
  // "The", "the", "of", "on" are predictable; the odd words are surprising.
  const surprise: Record<string, number> = { Zebras: 12, quietly: 9, juggle: 14, purple: 8, "anvils.": 11, cat: 5, "mat.": 4, sat: 3, "story.": 6, end: 4 };
  const scored = tokensOf(text, (w) => surprise[w] ?? 0.5);

  it("drops the most predictable words first, keeping at most KEEP of the tokens", () => {
    const r = pruneText(enc(text), scored, 0.5, "word");
    const kept = words(dec(r.text));
    // Ties (mat. and end, 4 bits) go in text order: mat. is dropped first.
    expect(kept).toEqual(["cat", "Zebras", "quietly", "juggle", "purple", "anvils.", "end", "story."]);
    expect(r.keptTokens).toBeLessThanOrEqual(0.5 * r.totalTokens + 1);
    expect(r.keptWords).toBe(8);
    expect(r.keptBits).toBeGreaterThan(0.8 * r.totalBits);
  });

  it("keeps lines and paragraphs: between kept words goes the gap with the most line breaks", () => {
    const r = pruneText(enc(text), scored, 0.5, "word");
    expect(dec(r.text)).toBe("cat Zebras quietly juggle purple anvils.\n\nend story.\n");
  });

  it("ranks a word by its most surprising token, its summed or its mean surprisal, as the policy says", () => {
    const data = "alpha beta gamma delta";
    // beta: two tokens (0.1 and 9 bits): max 9 (token: kept), sum 9.1 (word: kept), mean 4.55 (word-mean: dropped first).
    const toks: ScoredToken[] = [
      { start: 0, end: 5, bits: 5 },
      { start: 5, end: 8, bits: 0.1 },
      { start: 8, end: 10, bits: 9 },
      { start: 10, end: 16, bits: 6 },
      { start: 16, end: 22, bits: 4.8 },
    ];
    const keep = (policy: (typeof PRUNE_POLICIES)[number]) => words(dec(pruneText(enc(data), toks, 0.45, policy).text));
    expect(keep("token")).toEqual(["beta"]);
    expect(keep("word-mean")).toEqual(["alpha", "gamma"]);
    expect(keep("word")).toEqual(["beta"]);
  });

  it("cuts sentences at . ! ? ; (before closing quotes) and blank lines, not at a line break inside one", () => {
    const data = enc("Hi there. \"Who?\" she said;\nthen left\nquietly\n\nNew para. X ran’ on");
    const ws = splitWords(data);
    const units = sentenceOf(data, ws);
    const groups: string[][] = [];
    ws.forEach((w, i) => (groups[units[i] as number] ??= []).push(dec(data.subarray(w.start, w.end))));
    expect(groups).toEqual([["Hi", "there."], ['"Who?"'], ["she", "said;"], ["then", "left", "quietly"], ["New", "para."], ["X", "ran’", "on"]]);
  });

  /** Sentences of one-token words "s<k>w<i>" (the last ending in "."), sentence k `spec[k][0]` words of `spec[k][1]` bits each. */
  const sentences = (spec: [number, number][], lead = "") => {
    const text = `${lead}${spec.map(([len], k) => Array.from({ length: len }, (_, i) => `s${k}w${i}${i === len - 1 ? "." : ""}`).join(" ")).join(" ")}\n`;
    return { text, toks: tokensOf(text, (w) => spec[Number(/^s(\d+)/.exec(w)?.[1])]?.[1] ?? 0.5) };
  };
  const sentenceOfWord = (t: string) => words(t).map((w) => Number(/^s(\d+)/.exec(w)?.[1]));

  it("sentence: drops whole sentences of least surprisal per token, then words to land on KEEP", () => {
    const n = SENTENCE_MIN_TOKENS;
    const { text, toks } = sentences([
      [n, 2.5],
      [n, 8],
      [n, 2],
      [n, 6],
    ]);
    // One surprising word in the dull first sentence: word-mean keeps it, the sentence policy drops its sentence whole.
    toks[3] = { ...(toks[3] as ScoredToken), bits: 7 };
    const r = pruneText(enc(text), toks, 0.5, "sentence");
    expect(words(dec(r.text))).toEqual([...words(text).slice(n, 2 * n), ...words(text).slice(3 * n)]);
    expect(words(dec(pruneText(enc(text), toks, 0.5, "word-mean").text))).toContain("s0w3");
    // 0.4 of 4n: the two dull sentences go whole, then word by word the least surprising of the kept (sentence 3, in text order).
    const s = pruneText(enc(text), toks, 0.4, "sentence");
    const left = Math.floor(0.4 * 4 * n);
    expect(words(dec(s.text))).toEqual([...words(text).slice(n, 2 * n), ...words(text).slice(4 * n - (left - n))]);
  });

  it("sentence: passes over a sentence that would take the kept share below KEEP for a smaller one", () => {
    const n = SENTENCE_MIN_TOKENS;
    // 5n tokens, 0.75 kept: dropping the dullest (2n) would leave 3n; the next (n tokens) goes instead, then 6 of the dullest's words.
    const { text, toks } = sentences([
      [2 * n, 1],
      [n, 2],
      [2 * n, 9],
    ]);
    const r = pruneText(enc(text), toks, 0.75, "sentence");
    expect(sentenceOfWord(dec(r.text)).filter((k) => k === 1)).toHaveLength(0);
    expect(words(dec(r.text))).toEqual([...words(text).slice(6, 2 * n), ...words(text).slice(3 * n)]);
  });

  it("sentence: a sentence shorter than the minimum goes or stays with the one after it", () => {
    const n = SENTENCE_MIN_TOKENS;
    // "tiny." and "bit." (0.5 bits each) would be the first to go alone; joined to the 9-bit sentence after them, they stay.
    // Dropping the 1-bit sentence (half the tokens) lands exactly on KEEP 0.5, so no word-level step follows.
    const { text, toks } = sentences(
      [
        [n, 9],
        [n, 3],
        [2 * n + 2, 1],
      ],
      "tiny. bit. ",
    );
    const r = pruneText(enc(text), toks, 0.5, "sentence");
    expect(words(dec(r.text))).toEqual(words(text).slice(0, 2 * n + 2));
  });

  it("truncation keeps the first words; the random baseline is the same on every run and differs from truncation", () => {
    const many = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const toks = tokensOf(many);
    const t = pruneText(enc(many), toks, 0.3, "truncate");
    expect(words(dec(t.text))).toEqual(Array.from({ length: 60 }, (_, i) => `w${i}`));
    const a = pruneText(enc(many), toks, 0.3, "random");
    const b = pruneText(enc(many), toks, 0.3, "random");
    expect(dec(a.text)).toBe(dec(b.text));
    expect(dec(a.text)).not.toBe(dec(t.text));
    expect(a.keptTokens).toBe(60);
  });

  it("gives a word subsequence of the original under every policy and KEEP", () => {
    const original = enc(`${text}  tail\r\nwith CRLF\r\n\tand tabs — and ünïcode…`);
    const toks = tokensOf(dec(original), (w, i) => ((i * 7919) % 13) + w.length / 10);
    for (const policy of PRUNE_POLICIES) {
      for (const keep of [0.1, 0.3, 0.5, 0.7, 0.9]) {
        const r = pruneText(original, toks, keep, policy);
        expect(isWordSubsequence(r.text, original)).toBe(true);
        expect(r.keptWords).toBeGreaterThan(0);
        expect(r.text.length).toBeLessThan(original.length);
      }
    }
  });

  it("keeps words the model did not score, and rejects a KEEP outside (0, 1)", () => {
    const r = pruneText(enc("a b c d"), [], 0.2, "word");
    expect(dec(r.text)).toBe("a b c d");
    for (const keep of [0, 1, -0.5, 1.5, Number.NaN]) expect(() => pruneText(enc("a b"), [], keep, "word")).toThrow(RangeError);
  });

  it("tells a word subsequence from a reordering or a changed word", () => {
    const o = enc("one two three four");
    expect(isWordSubsequence(enc("one  three\nfour"), o)).toBe(true);
    expect(isWordSubsequence(enc("three one"), o)).toBe(false);
    expect(isWordSubsequence(enc("one tw"), o)).toBe(false);
    expect(isWordSubsequence(enc(""), o)).toBe(true);
  });
});

describe("the pruned archive's label", () => {
  const header = (meta: Record<string, string>) => ({ mode: "lossy", meta, originalLength: 40 });
  it("records method, KEEP and policy, and reads them back", () => {
    const label = lossyLabel({ method: "prune", originalBytes: 100, rewriter: "", promptSha256: "", originalSha256: "0123456789abcdef", sections: 0, keep: 0.5, policy: "word-mean" });
    expect(label.meta).toEqual({ "lossy.method": "prune", "lossy.keep": "0.5", "lossy.policy": "word-mean", "lossy.original": "100", "lossy.sha256": "0123456789abcdef" });
    const info = lossyInfo(header(label.meta ?? {}));
    expect(info).toMatchObject({ method: "prune", keep: 0.5, policy: "word-mean", originalBytes: 100, rewriteBytes: 40 });
    expect(lossyNote("a.llmz", info!)).toMatch(/a\.llmz is lossy: the output is the 40-byte pruned text \(0\.5 of the tokens kept, policy word-mean\) of a 100-byte original/);
    expect(lossyLines(info!).join("\n")).toMatch(/method +prune[\s\S]*keep +0\.5 of the tokens[\s\S]*policy +word-mean/);
  });
  it("reads archives without a method entry as rewrites, and refuses a bad KEEP or an unknown method", () => {
    expect(lossyInfo(header({ "lossy.original": "100", "lossy.rewriter": "x" }))?.method).toBe("rewrite");
    expect(() => lossyInfo(header({ "lossy.method": "prune", "lossy.keep": "1.5", "lossy.original": "100" }))).toThrow(CorruptArchiveError);
    expect(() => lossyInfo(header({ "lossy.method": "prune", "lossy.original": "100" }))).toThrow(CorruptArchiveError);
    expect(() => lossyInfo(header({ "lossy.method": "summarise", "lossy.original": "100" }))).toThrow(CorruptArchiveError);
  });
});

describe("--prune flags", () => {
  const base = { gpu: "off" as const, lossy: true };
  it("takes one KEEP for compress and several for bench, sorted, with the default policy", () => {
    expect(pruneSetup({ ...base, prune: [0.5] }, true)).toEqual({ keeps: [0.5], policy: "sentence" });
    expect(pruneSetup({ ...base, prune: [0.7, 0.3, 0.7], prunePolicy: "token" }, false)).toEqual({ keeps: [0.3, 0.7], policy: "token" });
    expect(() => pruneSetup({ ...base, prune: [0.3, 0.5] }, true)).toThrow(UsageError);
    expect(pruneSetup({ ...base, rewriter: "x.gguf" }, true)).toBeUndefined();
  });
  it("refuses --prune with a rewriter, without --lossy, and --prune-policy alone", () => {
    expect(() => pruneSetup({ ...base, prune: [0.5], rewriter: "x.gguf" }, true)).toThrow(/two lossy methods/);
    expect(() => pruneSetup({ ...base, prune: [0.5], rewriterUrl: "http://x/v1" }, true)).toThrow(UsageError);
    expect(() => pruneSetup({ gpu: "off", prune: [0.5] }, true)).toThrow(/need --lossy/);
    expect(() => pruneSetup({ ...base, prunePolicy: "word", rewriter: "x.gguf" }, true)).toThrow(/--prune-policy goes with --prune/);
    expect(() => pruneSetup({ ...base, prune: [0.5], rm: true }, true)).toThrow(/--rm/);
    expect(rewriterSpec({ ...base, prune: [0.5] })).toBeUndefined();
    expect(() => rewriterSpec({ ...base })).toThrow(/--prune KEEP/);
  });
});

describe("the pruning benchmark's report", () => {
  const run = (keep: number, archiveBytes: number, informationBits: number, selfInformationBits: number) => ({
    keep,
    archiveBytes,
    ofLossless: 0,
    keptBytes: archiveBytes * 2,
    keptTokens: Math.round(keep * 100),
    informationBits,
    informationShare: 0,
    informationPerArchiveBit: 0,
    codedInformationBits: informationBits * 3,
    codedInformationShare: 0,
    codedInformationPerArchiveBit: 0,
    selfInformationBits,
    selfInformationShare: 0,
    selfInformationPerArchiveBit: 0,
    compressSeconds: 1,
    roundTrip: true,
  });
  const file = (name: string, lossless: number, runs: ReturnType<typeof run>[]): PruneFileResult => ({ file: name, bytes: lossless * 4, tokens: 100, bitsAlone: lossless * 8, codedBitsAlone: lossless * 9, scoredBits: lossless * 8, lossless: { bytes: lossless, seconds: 1 }, scoreSeconds: 0.5, runs });
  const files = [file("b.txt", 2000, [run(0.3, 700, 900, 8000), run(0.7, 1500, 2000, 13000)]), file("a.txt", 1000, [run(0.3, 300, 400, 4000), { ...run(0.7, 800, -50, 6000), roundTrip: false, roundTripError: "boom" }])];
  const totals = pruneTotals(files, [0.3, 0.7]);

  it("sums over files and takes ratios of sums", () => {
    expect(totals.lossless.bytes).toBe(3000);
    expect(totals.runs[0]).toMatchObject({ keep: 0.3, archiveBytes: 1000, informationBits: 1300, roundTrip: true });
    expect(totals.runs[0]?.ofLossless).toBeCloseTo(1000 / 3000);
    expect(totals.runs[0]?.informationShare).toBeCloseTo(1300 / 24000);
    expect(totals.runs[0]?.informationPerArchiveBit).toBeCloseTo(1300 / 8000);
    expect(totals.runs[0]?.codedInformationBits).toBe(3900);
    expect(totals.runs[0]?.codedInformationShare).toBeCloseTo(3900 / 27000);
    expect(totals.runs[0]?.codedInformationPerArchiveBit).toBeCloseTo(3900 / 8000);
    expect(totals.runs[0]?.selfInformationShare).toBeCloseTo(12000 / 24000);
    expect(totals.runs[1]).toMatchObject({ roundTrip: false, roundTripError: "a.txt: boom" });
  });

  const report: PruneBenchReport = {
    tool: { name: "llmzip", version: "0.0.0" },
    date: "2026-01-01T00:00:00.000Z",
    model: { name: "m<1>", path: "/m", bytes: 1, sha256: "", architecture: "llama", parameters: 1, vocabSize: 1, contextLength: 512, backend: "cpu", cpuVariant: "", threads: 1 },
    settings: { keeps: [0.3, 0.7], policy: "word-mean", ctx: null, lanes: null },
    machine: { cpu: "cpu", cores: 2, memoryGiB: 1, os: "linux", node: "v20", loadAverage: 0 },
    files,
    totals,
    passed: false,
  };

  it("tables every file and KEEP, with the lossless reference and failed round trips", () => {
    const t = renderPruneTable(report);
    expect(t).toMatch(/^b\.txt +lossless +2,000 .* 1\.000 +1\.125 +100% /m);
    expect(t).toMatch(/^ +0\.3 +700 +0\.00 +30 +900 +0\.0% +0\.000 +0\.000 /m);
    expect(t).toMatch(/^ +0\.7 +800 +0\.00 .* FAILED$/m);
    expect(t).toMatch(/^total +lossless +3,000 /m);
  });

  it("charts one information line per KEEP across the files, in order of size, with the lossless line", () => {
    const svg = renderPruneChart(report);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("m&lt;1&gt;");
    const lines = [...svg.matchAll(/<polyline points="([^"]+)" fill="none" stroke="([^"]+)"/g)];
    // lossless + (information, self-information) per KEEP
    expect(lines).toHaveLength(5);
    for (const [, points] of lines) {
      const xs = (points ?? "").split(" ").map((p) => Number(p.split(",")[0]));
      expect(xs).toHaveLength(2);
    }
    // a.txt (smaller lossless archive) comes first on the lossless line
    const lossless = (lines[0]?.[1] ?? "").split(" ").map((p) => Number(p.split(",")[0]));
    expect(lossless[0]).toBeLessThan(lossless[1] as number);
    expect(svg).toContain("keep 0.3: information");
    expect(svg).toContain("a.txt keep 0.7: 800 bytes, -50 bits");
  });
});

describe("aligning a pruned text with its original", () => {
  it("finds each kept word's place, and maps original offsets into the kept text", () => {
    const original = enc("aa bb cc dd ee");
    const kept = enc("bb  dd");
    const a = alignWords(kept, original);
    expect(a).toEqual({ original: [3, 9], rewrite: [0, 4] });
    expect(alignWords(enc("dd bb"), original)).toBeUndefined();
    // before the first kept word: its start; inside a kept word: the same place in it; in dropped words: no further than the next kept word.
    expect(alignedOffset(0, a!)).toBe(0);
    expect(alignedOffset(4, a!)).toBe(1);
    expect(alignedOffset(7, a!)).toBe(4);
    expect(alignedOffset(10, a!)).toBe(5);
    expect(alignedOffset(13, a!)).toBe(8);
    expect(alignedOffset(5, { original: [], rewrite: [] })).toBe(0);
  });
});
