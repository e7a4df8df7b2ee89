import type { Command } from "commander";
import { FORMAT_VERSION } from "../container/format.js";
import { inspectArchive, type ArchiveSummary } from "../codec/inspect.js";
import { readInput } from "./files.js";
import { makeReporter, reportError } from "./output.js";

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
  return runs.map((r) => `${r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`} ${r.what} (${r.bytes.toLocaleString("en-US")} B)`);
}

function renderAdapters(s: ArchiveSummary): string[] {
  const lines: string[] = [];
  const anyAdapter = s.adapterSets.some((set) => set.length > 0);
  s.adapterSets.forEach((set, i) => {
    const mine = s.chunkTable.filter((c) => c.adapterSet === i);
    const names = set.length ? set.map((a) => `${a.name} x${a.scale} (${a.size.toLocaleString("en-US")} bytes, sha256 ${a.sha256.slice(0, 12)}…)`).join(" + ") : "no adapter";
    const bytes = mine.reduce((n, c) => n + c.bytes, 0);
    if (anyAdapter) lines.push(`  adapters #${i}     ${names}: ${mine.length} chunk${mine.length === 1 ? "" : "s"}, ${bytes.toLocaleString("en-US")} bytes`);
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

function render(file: string, s: ArchiveSummary): string {
  const lines = [
    `${file}`,
    `  format          llmzip ${s.formatVersion}, ${s.mode}`,
    `  original        ${s.originalBytes.toLocaleString("en-US")} bytes`,
    `  compressed      ${s.compressedBytes.toLocaleString("en-US")} bytes (${s.bitsPerByte.toFixed(3)} bits/byte)`,
    `  chunks          ${s.chunks.total} (model ${s.chunks.model}, brotli ${s.chunks.brotli}, stored ${s.chunks.raw})`,
  ];
  if (s.model) lines.push(`  model           ${s.model.name}, ${s.model.size.toLocaleString("en-US")} bytes, sha256 ${s.model.sha256}`);
  else lines.push("  model           none (decompresses without a model)");
  if (s.settings) {
    const st = s.settings;
    lines.push(
      `  settings        lanes ${st.lanes}, ctx ${st.ctx}, vocab ${st.vocabSize}, start token ${st.startToken}`,
      `                  backend ${st.backend}${st.cpuVariant ? ` (${st.cpuVariant} kernels)` : ""}, flash attention ${st.flashAttention ? "on" : "off"}, KV ${st.kvType}, ${st.freqBits}-bit tables, mixer ${st.mixer || "off"}`,
    );
  }
  lines.push(...renderAdapters(s));
  for (const [k, v] of Object.entries(s.meta)) lines.push(`  ${k.padEnd(15)} ${v}`);
  return lines.join("\n");
}

export function register(program: Command): void {
  program
    .command("info")
    .description("describe .llmz archives: model, settings, sizes, chunks")
    .argument("<files...>", "archives")
    .option("--json", "print JSON (one document; an array for several files)")
    .option("-v, --verbose", "stack traces on errors")
    .addHelpText("after", "\nExamples:\n  llmzip info notes.txt.llmz\n  llmzip info --json notes.txt.llmz | jq .bitsPerByte")
    .action((files: string[], flags: { json?: boolean; verbose?: boolean }) => {
      const rep = makeReporter(flags);
      const results: (ArchiveSummary & { file: string })[] = [];
      let code = 0;
      for (const file of files) {
        try {
          results.push({ file, ...inspectArchive(readInput(file), FORMAT_VERSION) });
        } catch (err) {
          code = reportError(err, rep.verbose);
        }
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(results.length === 1 && files.length === 1 ? results[0] : results, null, 2)}\n`);
      else process.stdout.write(results.map((r) => render(r.file, r)).join("\n\n") + (results.length ? "\n" : ""));
      process.exitCode = code;
    });
}
