import { describeFileComparison } from "./compare.js";
import { fmtBytesRate, fmtDelta, fmtFixed, fmtInt, fmtRate, fmtSeconds, lossyRows } from "./format.js";
import type { BaselineResult, BenchReport } from "./report.js";

const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;");

function table(head: string[], rows: string[][], alignRight: boolean[]): string {
  const sep = alignRight.map((r) => (r ? "---:" : "---"));
  return [head, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** A row's bits-per-byte cells with the smallest in bold. */
function bpbRow(values: (number | null)[]): string[] {
  const present = values.filter((v): v is number => v !== null);
  const best = present.length ? Math.min(...present) : null;
  return values.map((v) => (v !== null && v === best ? `**${fmtFixed(v, 3)}**` : fmtFixed(v, 3)));
}

function baselineValues(b: Record<string, BaselineResult>, names: string[]): (number | null)[] {
  return names.map((n) => b[n]?.bpb ?? null);
}

/** The markdown table of bits per byte: a row per file and the totals, the best of each row in bold. */
export function renderBpbTable(report: BenchReport): string {
  const names = report.baselines.ran.map((b) => b.name);
  const t = report.totals;
  return table(
    ["file", "bytes", "llmzip", ...report.baselines.ran.map((b) => b.label)],
    [
      ...report.files.map((f) => [esc(f.file), fmtInt(f.bytes), ...bpbRow([f.llmzip.bpb, ...baselineValues(f.baselines, names)])]),
      ["**total**", fmtInt(t.bytes), ...bpbRow([t.llmzip.bpb, ...baselineValues(t.baselines, names)])],
    ],
    [false, true, true, ...names.map(() => true)],
  );
}

/** The setting of a run as markdown list items: date, model, engine, machine. */
export function describeSetting(report: BenchReport): string[] {
  const m = report.model;
  const mc = report.machine;
  const s = report.settings;
  return [
    `- Date: ${report.date.slice(0, 10)} (${report.date})`,
    `- llmzip ${report.tool.version}; model **${esc(m.name)}** (${m.architecture}, ${fmtInt(m.parameters)} parameters, vocabulary ${fmtInt(m.vocabSize)}, ${fmtInt(m.bytes)} bytes, sha256 \`${m.sha256.slice(0, 16)}…\`)`,
    `- Engine: ${m.backend}${m.cpuVariant ? ` (${m.cpuVariant} kernels)` : ""}, ${m.threads} thread(s), lanes ${s.lanes ?? "default"}, context ${s.ctx ?? "default"}${s.forceModel ? ", --force-model" : ""}${s.mix === false ? ", --no-mix" : ""}${s.adapters.length ? `, adapters ${s.adapters.map((a) => `${esc(a.path)}:${a.scale}`).join(", ")}` : ""}`,
    `- Machine: ${esc(mc.cpu)}, ${mc.cores} cores, ${mc.memoryGiB} GiB, ${mc.os}, Node ${mc.node}; load average ${mc.loadAverage} at the start (throughput on a shared machine is noisy)`,
  ];
}

/**
 * A self-contained markdown report of a run: the setting (date, model,
 * machine), bits per byte of every compressor, llmzip's own measurements,
 * skipped baselines and checks. `chart` is a path to an SVG to embed.
 */
export function renderMarkdown(report: BenchReport, opts: { chart?: string; title?: string } = {}): string {
  const t = report.totals;
  const lines: string[] = [
    `# ${opts.title ?? "llmzip benchmark"}`,
    "",
    ...describeSetting(report),
    "",
    "## Bits per byte (lower is better)",
    "",
    renderBpbTable(report),
    "",
  ];
  if (report.baselines.skipped.length) lines.push(`Skipped: ${report.baselines.skipped.map((b) => `${b.label} (${b.reason})`).join(", ")}.`, "");
  if (opts.chart) lines.push(`![bits per byte per file and compressor](${opts.chart})`, "");
  lines.push(
    "## llmzip in detail",
    "",
    table(
      ["file", "llmzip bytes", "model-coded", "model bpb", "overhead %", "compress tok/s", "decompress tok/s", "eval-only tok/s", "compress", "decompress", "round trip"],
      [...report.files.map((f) => ({ label: esc(f.file), bytes: f.bytes, l: f.llmzip })), { label: "**total**", bytes: t.bytes, l: t.llmzip }].map(({ label, bytes, l }) => [
        label,
        fmtInt(l.bytes),
        bytes > 0 ? `${((100 * l.modelBytes) / bytes).toFixed(0)}%` : "-",
        fmtFixed(l.modelBpb, 3),
        fmtFixed(l.overheadPct, 3),
        fmtRate(l.compressTokensPerSec),
        fmtRate(l.decompressTokensPerSec),
        fmtRate(l.evalOnlyTokensPerSec),
        `${fmtSeconds(l.compressSeconds)}, ${fmtBytesRate(l.compressBytesPerSec)}`,
        `${fmtSeconds(l.decompressSeconds)}, ${fmtBytesRate(l.decompressBytesPerSec)}`,
        l.roundTrip ? "ok" : `**FAILED**${"roundTripError" in l && l.roundTripError ? `: ${esc(l.roundTripError)}` : ""}`,
      ]),
      [false, true, true, true, true, true, true, true, true, true, false],
    ),
    "",
  );
  const lossy = lossyRows(report);
  if (lossy) {
    lines.push(
      `## Lossy: information kept (rewriter ${esc(report.settings.lossy?.rewriter ?? "")})`,
      "",
      "Bits of the original under the coding model, alone and after the rewrite; their difference is the information the rewrite carries. The round trip compares with the rewrite.",
      "",
      table(lossy.head, lossy.rows.map((r) => r.map(esc)), lossy.head.map((_, i) => i > 0)),
      "",
    );
  }
  lines.push(
    "## Baseline times",
    "",
    table(
      ["compressor", "bytes", "bits per byte", "time"],
      report.baselines.ran.map((b) => {
        const r = t.baselines[b.name];
        return [b.label, fmtInt(r?.bytes), fmtFixed(r?.bpb, 3), fmtSeconds(r?.seconds)];
      }),
      [false, true, true, true],
    ),
    "",
  );
  const cmp = report.comparison;
  if (cmp) {
    lines.push(
      `## Against the saved report`,
      "",
      `${cmp.passed ? "No regression" : "**Regression**"}: compared with \`${esc(cmp.report.path)}\` (${esc(cmp.report.date)}, llmzip ${esc(cmp.report.version)}); a file fails when its archive grows by more than ${cmp.maxRegressionPct}% or its round trip fails. Inputs whose bytes changed are not compared.`,
      "",
      table(
        ["file", "archive bytes", "saved", "change", "status"],
        [
          ...cmp.files.map((f) => [esc(f.file), fmtInt(f.bytes), fmtInt(f.baselineBytes), fmtDelta(f.deltaPct), f.status === "regression" || f.status === "roundTripFailed" ? `**${describeFileComparison(f)}**` : describeFileComparison(f)]),
          ["**compared files**", fmtInt(cmp.total.bytes), fmtInt(cmp.total.baselineBytes), fmtDelta(cmp.total.deltaPct), ""],
        ],
        [false, true, true, true, false],
      ),
      "",
    );
    if (cmp.missing.length) lines.push(`Not in this run: ${cmp.missing.map(esc).join(", ")}.`, "");
  }
  if (report.checks) {
    lines.push("## Checks", "");
    for (const c of report.checks) lines.push(`- ${c.passed ? "pass" : "**FAIL**"} \`${c.check}\`${c.failures.length ? `: ${c.failures.map(esc).join("; ")}` : ""}`);
    lines.push("");
  }
  lines.push(
    "## What the columns mean",
    "",
    "- **llmzip**: archive bits per original byte (header, chunk table and fallback chunks included). Files or chunks the model codes worse than brotli go to brotli; *model-coded* is the share of bytes the model coded.",
    "- **model bpb**: the model's cross-entropy (sum of −log2 p(token) under its exact softmax) over the bytes it coded: the limit the coder can reach there.",
    "- **overhead %**: (range-coded stream bits / that cross-entropy − 1) × 100 over the model-coded chunks. It is negative with context mixing (the default), which codes below the bare model's cross-entropy; with `--no-mix` it measures the coder alone and can still be slightly negative, because the integer tables give every token a floor probability, which pays off on tokens the model finds very unlikely.",
    "- **compress tok/s**: tokens of the final model pass per second of that pass; **decompress tok/s**: tokens per second of the whole decompress call; **eval-only tok/s**: the same lane schedule with the coding step skipped (the model alone). *compress*/*decompress*: wall time of the whole call and original bytes per second.",
    "- Baselines run on the same bytes in the same run; gzip and brotli through node:zlib (brotli with a 2^24 window), the others as programs (their time includes starting the process).",
    "- Totals are ratios of sums over all files; token rates over the model-coded files.",
    "",
  );
  return lines.join("\n");
}
