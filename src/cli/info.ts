import type { Command } from "commander";
import { FORMAT_VERSION } from "../container/format.js";
import { inspectArchive, type ArchiveSummary } from "../codec/inspect.js";
import { UsageError } from "../errors.js";
import { isLossyMetaKey, lossyInfo, type LossyInfo } from "../lossy/archive.js";
import { informationOfArchive, type ArchiveInformation } from "../lossy/evaluate.js";
import { readInput } from "../util/fs.js";
import { lossyLines } from "./lossy.js";
import { parsePositiveInt } from "./options.js";
import { makeReporter, reportError } from "./output.js";
import { ModelStore } from "../models/model-store.js";
import { modelForDecompress } from "./resolve-model.js";
import { groupDigits } from "../util/bytes.js";

/** Most chunk runs listed in text; --json always lists every chunk. */
const MAX_RUNS = 24;

/** What each chunk was coded with, as runs: `1-3 #1, 4 brotli, 5-8 none`. */
export function chunkRuns(s: ArchiveSummary): string[] {
  const label = (c: ArchiveSummary["chunkTable"][number]) => {
    if (c.adapterSet === null) return c.method;
    return (s.adapterSets[c.adapterSet]?.length ?? 0) === 0 ? "no adapter" : `adapters #${c.adapterSet}`;
  };
  const runs: { from: number; to: number; what: string; bytes: number }[] = [];
  s.chunkTable.forEach((c, i) => {
    const what = label(c);
    const last = runs[runs.length - 1];
    if (last && last.what === what) {
      last.to = i + 1;
      last.bytes += c.bytes;
    } else runs.push({ from: i + 1, to: i + 1, what, bytes: c.bytes });
  });
  return runs.map((r) => `${r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`} ${r.what} (${groupDigits(r.bytes)} B)`);
}

function renderAdapters(s: ArchiveSummary): string[] {
  const lines: string[] = [];
  const anyAdapter = s.adapterSets.some((set) => set.length > 0);
  s.adapterSets.forEach((set, i) => {
    const mine = s.chunkTable.filter((c) => c.adapterSet === i);
    const names = set.length ? set.map((a) => `${a.name} x${a.scale} (${groupDigits(a.size)} bytes, sha256 ${a.sha256.slice(0, 12)}…)`).join(" + ") : "no adapter";
    const bytes = mine.reduce((n, c) => n + c.bytes, 0);
    if (anyAdapter) lines.push(`  adapters #${i}     ${names}: ${mine.length} chunk${mine.length === 1 ? "" : "s"}, ${groupDigits(bytes)} bytes`);
  });
  if (anyAdapter) {
    const runs = chunkRuns(s);
    const shown = runs.slice(0, MAX_RUNS);
    if (runs.length > shown.length) shown.push(`… ${runs.length - shown.length} more (llmzip info --json lists every chunk)`);
    shown.forEach((r, i) => lines.push(`  ${i === 0 ? "chunk coding   " : "               "} ${r}`));
  } else if (s.model) {
    lines.push("  adapters        none");
  }
  return lines;
}

/** `info --json` of one archive; for a lossy one, original size and bits per byte refer to the original. */
type InfoResult = ArchiveSummary & { file: string; lossy: LossyInfo | null; information?: ArchiveInformation };

function describe(file: string, archive: Uint8Array): InfoResult {
  const s = inspectArchive(archive, FORMAT_VERSION);
  const lossy = lossyInfo({ mode: s.mode, meta: s.meta, originalLength: s.originalBytes }) ?? null;
  if (!lossy) return { file, ...s, lossy };
  return { file, ...s, originalBytes: lossy.originalBytes, bitsPerByte: lossy.originalBytes > 0 ? (archive.length * 8) / lossy.originalBytes : 0, lossy };
}

function render(file: string, s: InfoResult): string {
  const lines = [
    `${file}`,
    `  format          llmzip ${s.formatVersion}, ${s.mode}`,
    `  original        ${groupDigits(s.originalBytes)} bytes${s.lossy ? ` (not stored: decompression gives the ${s.lossy.method === "prune" ? "pruned text" : "rewrite"})` : ""}`,
    ...(s.lossy ? [`  ${s.lossy.method === "prune" ? "pruned text " : "rewrite     "}    ${groupDigits(s.lossy.rewriteBytes)} bytes`] : []),
    `  compressed      ${groupDigits(s.compressedBytes)} bytes (${s.bitsPerByte.toFixed(3)} bits/byte${s.lossy ? " of the original" : ""})`,
    `  chunks          ${s.chunks.total} (model ${s.chunks.model}, brotli ${s.chunks.brotli}, stored ${s.chunks.raw})`,
  ];
  if (s.model) lines.push(`  model           ${s.model.name}, ${groupDigits(s.model.size)} bytes, sha256 ${s.model.sha256}`);
  else lines.push("  model           none (decompresses without a model)");
  if (s.settings) {
    const st = s.settings;
    lines.push(
      `  settings        lanes ${st.lanes}, ctx ${st.ctx}, vocab ${st.vocabSize}, start token ${st.startToken}`,
      `                  backend ${st.backend}${st.cpuVariant ? ` (${st.cpuVariant} kernels)` : ""}, flash attention ${st.flashAttention ? "on" : "off"}, KV ${st.kvType}, ${st.freqBits}-bit tables, mixer ${st.mixer || "off"}`,
    );
  }
  lines.push(...renderAdapters(s));
  if (s.lossy) lines.push(...lossyLines(s.lossy, s.information));
  for (const [k, v] of Object.entries(s.meta)) if (!isLossyMetaKey(k)) lines.push(`  ${k.padEnd(15)} ${v}`);
  return lines.join("\n");
}

interface InfoFlags {
  json?: boolean;
  verbose?: boolean;
  original?: string;
  model?: string;
  threads?: number;
}

export function register(program: Command): void {
  program
    .command("info")
    .description("describe .llmz archives: model, settings, sizes, chunks")
    .argument("<files...>", "archives")
    .option("--json", "print JSON (one document; an array for several files)")
    .option("--original <file>", "lossy archive: measure the information it keeps about this original (needs the coding model)")
    .option("-m, --model <path>", "with --original: the archive's coding model (default: $LLMZIP_MODEL)")
    .option("--threads <n>", "with --original: llama.cpp threads", parsePositiveInt("--threads", 1024))
    .option("-v, --verbose", "stack traces on errors")
    .addHelpText(
      "after",
      "\nExamples:\n  llmzip info notes.txt.llmz\n  llmzip info --json notes.txt.llmz | jq .bitsPerByte\n  llmzip info --json --original article.txt -m model.gguf article.txt.llmz | jq .information",
    )
    .action(async (files: string[], flags: InfoFlags) => {
      const rep = makeReporter(flags);
      const store = new ModelStore();
      if (flags.original && files.length !== 1) throw new UsageError("--original goes with one archive");
      if (!flags.original && (flags.model || flags.threads)) throw new UsageError("-m and --threads are for --original");
      const results: InfoResult[] = [];
      let code = 0;
      for (const file of files) {
        try {
          const archive = readInput(file);
          const result = describe(file, archive);
          if (flags.original) {
            result.information = await informationOfArchive(archive, readInput(flags.original), {
              ...modelForDecompress(store, flags.model),
              threads: flags.threads,
              verbose: flags.verbose,
            });
          }
          results.push(result);
        } catch (err) {
          code = reportError(err, rep.verbose);
        }
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(results.length === 1 && files.length === 1 ? results[0] : results, null, 2)}\n`);
      else process.stdout.write(results.map((r) => render(r.file, r)).join("\n\n") + (results.length ? "\n" : ""));
      process.exitCode = code;
    });
}
