import { Chalk } from "chalk";
import { describeFileComparison } from "./compare.js";
import { DASH, fmtDelta, fmtFixed, fmtInt, fmtRate, lossyRows } from "./format.js";
import type { BaselineResult, BenchReport, LlmzipResult, Totals } from "./report.js";

interface Column {
  head: string;
  /** Right-aligned numbers, left-aligned text. */
  align: "left" | "right";
}

type Cell = { text: string; style?: "best" | "good" | "bad" | "dim" };

/** Bits per byte of llmzip and each baseline in a row; the lowest is marked best. */
function bpbCells(llm: { bpb: number | null }, baselines: Record<string, BaselineResult>, names: string[]): Cell[] {
  const values = [llm.bpb, ...names.map((n) => baselines[n]?.bpb ?? null)];
  const present = values.filter((v): v is number => v !== null);
  const best = present.length ? Math.min(...present) : null;
  return values.map((v) => ({ text: fmtFixed(v, 3), ...(v !== null && v === best ? { style: "best" as const } : {}) }));
}

function llmCells(l: LlmzipResult | Totals["llmzip"]): Cell[] {
  return [
    { text: fmtFixed(l.modelBpb, 3) },
    { text: fmtFixed(l.overheadPct, 3) },
    { text: fmtRate(l.compressTokensPerSec) },
    { text: fmtRate(l.decompressTokensPerSec) },
    { text: fmtRate(l.evalOnlyTokensPerSec) },
    l.roundTrip ? { text: "ok", style: "good" } : { text: "FAILED", style: "bad" },
  ];
}

/** Each column's width: its widest text, head included. */
function columnWidths(head: string[], rows: string[][]): number[] {
  return head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
}

function padCell(text: string, width: number, align: Column["align"]): string {
  return align === "right" ? text.padStart(width) : text.padEnd(width);
}

/**
 * The terminal table: one row per file and a totals row, every column
 * aligned; colors only when `color` is set (best bits per byte of a row in
 * green, a failed round trip in red).
 */
export function renderTable(report: BenchReport, opts: { color: boolean }): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const names = report.baselines.ran.map((b) => b.name);
  const columns: Column[] = [
    { head: "file", align: "left" },
    { head: "bytes", align: "right" },
    { head: "llmzip B", align: "right" },
    { head: "llmzip", align: "right" },
    ...names.map((n) => ({ head: n, align: "right" as const })),
    { head: "model", align: "right" },
    { head: "ovh %", align: "right" },
    { head: "enc tok/s", align: "right" },
    { head: "dec tok/s", align: "right" },
    { head: "eval tok/s", align: "right" },
    { head: "round trip", align: "left" },
  ];
  // With a saved report, a last column says how each archive changed since.
  const cmp = report.comparison;
  const vsSaved = new Map(cmp?.files.map((f) => [f.file, f]));
  if (cmp) columns.push({ head: "vs saved", align: "left" });
  const savedCell = (file: string): Cell[] => {
    const f = vsSaved.get(file);
    if (!cmp) return [];
    if (!f) return [{ text: DASH }];
    const style = f.status === "regression" || f.status === "roundTripFailed" ? "bad" : f.status === "smaller" ? "good" : f.status === "changed" || f.status === "new" ? "dim" : undefined;
    return [{ text: describeFileComparison(f), ...(style ? { style } : {}) }];
  };
  const body: Cell[][] = report.files.map((f) => {
    const bpb = bpbCells(f.llmzip, f.baselines, names);
    return [{ text: f.file }, { text: fmtInt(f.bytes) }, { text: fmtInt(f.llmzip.bytes) }, ...bpb, ...llmCells(f.llmzip), ...savedCell(f.file)];
  });
  const t = report.totals;
  const totalRow: Cell[] = [{ text: "total" }, { text: fmtInt(t.bytes) }, { text: fmtInt(t.llmzip.bytes) }, ...bpbCells(t.llmzip, t.baselines, names), ...llmCells(t.llmzip), ...(cmp ? [{ text: fmtDelta(cmp.total.deltaPct) }] : [])];
  const widths = columnWidths(columns.map((col) => col.head), [...body, totalRow].map((r) => r.map((cell) => cell.text)));
  const pad = (text: string, i: number) => padCell(text, widths[i] ?? 0, columns[i]?.align ?? "left");
  const paint = (cell: Cell, i: number) => {
    const text = pad(cell.text, i);
    switch (cell.style) {
      case "best":
        return c.green.bold(text);
      case "good":
        return c.green(text);
      case "bad":
        return c.red.bold(text);
      default:
        return cell.text === DASH ? c.dim(text) : text;
    }
  };
  const line = (cells: Cell[]) => cells.map(paint).join("  ").trimEnd();
  const rule = c.dim(widths.map((w) => "─".repeat(w)).join("  "));
  const out = [
    c.bold(columns.map((col, i) => pad(col.head, i)).join("  ").trimEnd()),
    rule,
    ...body.map(line),
    rule,
    c.bold(line(totalRow)),
    "",
    c.dim(`bits per byte (llmzip = archive, model = the model's cross-entropy on the bytes it coded); ${DASH}: not measured (no chunk coded by the model)`),
  ];
  const lossy = lossyRows(report);
  if (lossy) {
    // Lossy: a second, plain table of what the rewrites keep.
    const w = columnWidths(lossy.head, lossy.rows);
    const fmt = (r: string[]) => r.map((x, i) => padCell(x, w[i] ?? 0, i === 0 ? "left" : "right")).join("  ").trimEnd();
    out.push("", c.bold(`lossy (rewriter ${report.settings.lossy?.rewriter}): bits of the original under the coding model, alone and after the rewrite`), c.bold(fmt(lossy.head)), ...lossy.rows.map(fmt));
  }
  if (cmp) {
    const line = `against ${cmp.report.path} (${cmp.report.date.slice(0, 10)}): ${cmp.passed ? "no regression" : "REGRESSION"} above +${cmp.maxRegressionPct}% per file; compared files ${fmtDelta(cmp.total.deltaPct)} in total${cmp.missing.length ? `; not in this run: ${cmp.missing.join(", ")}` : ""}`;
    out.push(cmp.passed ? c.dim(line) : c.red.bold(line));
  }
  if (report.baselines.skipped.length) out.push(c.yellow(`skipped: ${report.baselines.skipped.map((s) => `${s.label} (${s.reason})`).join(", ")}`));
  out.push(c.dim(`model ${report.model.name}, ${report.model.backend}, ${report.model.threads} thread(s); machine load ${report.machine.loadAverage} on ${report.machine.cores} cores at the start`));
  return `${out.join("\n")}\n`;
}
