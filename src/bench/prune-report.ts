/**
 * The table and the chart of `bench --lossy --prune`: archive size against
 * the information kept, one line per KEEP, the lossless archive as the
 * reference point.
 */
import { groupDigits } from "../util/bytes.js";
import { fmtFixed, fmtInt } from "./format.js";
import type { PruneBenchReport, PruneFileResult, PruneRun } from "./prune.js";

const PALETTE = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const REFERENCE = "#333333";

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** One row per file and KEEP (and the lossless reference), then the totals; columns padded for a terminal. */
export function renderPruneTable(report: PruneBenchReport): string {
  const head = ["file", "keep", "archive B", "of lossless", "kept tok", "info bits", "info share", "info/bit", "coded info/bit", "self-info share", "self-info/bit", "round trip"];
  const rows: string[][] = [];
  const add = (label: string, f: Pick<PruneFileResult, "bytes" | "tokens" | "bitsAlone" | "codedBitsAlone" | "lossless" | "runs">) => {
    const perBit = (bits: number) => fmtFixed(f.lossless.bytes ? bits / (f.lossless.bytes * 8) : null, 3);
    rows.push([label, "lossless", fmtInt(f.lossless.bytes), "1.00", fmtInt(f.tokens), groupDigits(f.bitsAlone, 0), "100%", perBit(f.bitsAlone), perBit(f.codedBitsAlone), "100%", "", "ok"]);
    for (const r of f.runs) {
      rows.push([
        "",
        String(r.keep),
        fmtInt(r.archiveBytes),
        fmtFixed(r.ofLossless, 2),
        fmtInt(r.keptTokens),
        groupDigits(r.informationBits, 0),
        pct(r.informationShare),
        fmtFixed(r.informationPerArchiveBit, 3),
        fmtFixed(r.codedInformationPerArchiveBit, 3),
        pct(r.selfInformationShare),
        fmtFixed(r.selfInformationPerArchiveBit, 3),
        r.roundTrip ? "ok" : "FAILED",
      ]);
    }
  };
  for (const f of report.files) add(f.file, f);
  add("total", report.totals);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd();
  const title = `llmzip ${report.tool.version} --lossy --prune ${report.settings.keeps.join(",")} (policy ${report.settings.policy}), model ${report.model.name}`;
  return [title, line(head), ...rows.map(line), ""].join("\n");
}

/** A round step that gives four to eight grid lines over [lo, hi]. */
function niceStep(span: number): number {
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

interface Point {
  x: number;
  y: number;
  tip: string;
}

/**
 * Information kept (bits, y) against archive size (bytes, x): for each KEEP
 * a line through the files' points in order of size, and the lossless
 * archives (all the original's bits) as the reference line. Solid lines are
 * the measured information; dashed lines the self-information the kept
 * words carry. A standalone SVG document; hovering a point shows its numbers.
 */
export function renderPruneChart(report: PruneBenchReport): string {
  const bySize = [...report.files].sort((a, b) => a.lossless.bytes - b.lossless.bytes);
  const series: { label: string; color: string; dashed: boolean; points: Point[] }[] = [
    {
      label: "lossless (all bits)",
      color: REFERENCE,
      dashed: false,
      points: bySize.map((f) => ({ x: f.lossless.bytes, y: f.bitsAlone, tip: `${f.file}: lossless ${groupDigits(f.lossless.bytes)} bytes, ${groupDigits(f.bitsAlone, 0)} bits` })),
    },
  ];
  report.settings.keeps.forEach((keep, k) => {
    const color = PALETTE[k % PALETTE.length] as string;
    const pick = (f: PruneFileResult) => f.runs[k] as PruneRun;
    series.push({
      label: `keep ${keep}: information`,
      color,
      dashed: false,
      points: bySize.map((f) => ({ x: pick(f).archiveBytes, y: pick(f).informationBits, tip: `${f.file} keep ${keep}: ${groupDigits(pick(f).archiveBytes)} bytes, ${groupDigits(pick(f).informationBits, 0)} bits (${pct(pick(f).informationShare)})` })),
    });
    series.push({
      label: `keep ${keep}: self-information`,
      color,
      dashed: true,
      points: bySize.map((f) => ({ x: pick(f).archiveBytes, y: pick(f).selfInformationBits, tip: `${f.file} keep ${keep}: ${groupDigits(pick(f).archiveBytes)} bytes, ${groupDigits(pick(f).selfInformationBits, 0)} bits of self-information (${pct(pick(f).selfInformationShare)})` })),
    });
  });
  const all = series.flatMap((s) => s.points);
  const left = 80;
  const top = 70;
  const plotWidth = 520;
  const plotHeight = 340;
  const legendWidth = 240;
  const width = left + plotWidth + 24 + legendWidth;
  const height = top + plotHeight + 60;
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yLo = Math.min(0, ...all.map((p) => p.y));
  const yHi = Math.max(1, ...all.map((p) => p.y));
  const xStep = niceStep(xMax);
  const yStep = niceStep(yHi - yLo);
  const x1 = Math.ceil(xMax / xStep) * xStep;
  const y0 = Math.floor(yLo / yStep) * yStep;
  const y1 = Math.ceil(yHi / yStep) * yStep;
  const X = (v: number) => left + (v / x1) * plotWidth;
  const Y = (v: number) => top + plotHeight - ((v - y0) / (y1 - y0)) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="28" font-size="18" font-weight="bold">Information kept against archive size (pruning, policy ${xml(report.settings.policy)})</text>`,
    `<text x="${left}" y="50" font-size="12" fill="#555">${xml(`llmzip ${report.tool.version}, model ${report.model.name}, ${report.files.length} file(s), ${report.date.slice(0, 10)}`)}</text>`,
  ];
  for (let v = y0; v <= y1 + 1e-9; v += yStep) {
    const yy = Y(v).toFixed(1);
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" stroke="${Math.abs(v) < 1e-9 ? "#999" : "#e0e0e0"}"/>`);
    parts.push(`<text x="${left - 8}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle">${groupDigits(v, 0)}</text>`);
  }
  for (let v = 0; v <= x1 + 1e-9; v += xStep) {
    const xx = X(v).toFixed(1);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + plotHeight}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${xx}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${groupDigits(v, 0)}</text>`);
  }
  parts.push(`<text transform="translate(18 ${top + plotHeight / 2}) rotate(-90)" font-size="13" text-anchor="middle">information kept (bits)</text>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 40}" font-size="13" text-anchor="middle">archive size (bytes)</text>`);
  for (const s of series) {
    const path = s.points.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(" ");
    if (s.points.length > 1) parts.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="4" fill="${s.dashed ? "#ffffff" : s.color}" stroke="${s.color}" stroke-width="2"><title>${xml(p.tip)}</title></circle>`);
    }
  }
  parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333"/>`);
  const lx = left + plotWidth + 24;
  series.forEach((s, i) => {
    const ly = top + i * 20;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly + 7}" y2="${ly + 7}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly + 11}" font-size="12">${xml(s.label)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
