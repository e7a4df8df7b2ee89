import type { BenchReport } from "./report.js";
import { groupDigits } from "../util/bytes.js";

const PALETTE = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A round step for the y axis that gives four to eight grid lines. */
function niceStep(max: number): number {
  const raw = max / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

/**
 * A grouped bar chart of bits per byte, one group per file (and the totals),
 * one bar per compressor, as a standalone SVG document. Hovering a bar shows
 * its numbers.
 */
export function renderChart(report: BenchReport): string {
  const series = [{ name: "llmzip", label: `llmzip (${report.model.name})` }, ...report.baselines.ran.map((b) => ({ name: b.name, label: b.label }))];
  const groups = [
    ...report.files.map((f) => ({ label: f.file, bytes: f.bytes, values: series.map((s) => (s.name === "llmzip" ? { bpb: f.llmzip.bpb, bytes: f.llmzip.bytes } : (f.baselines[s.name] ?? null))) })),
    { label: "total", bytes: report.totals.bytes, values: series.map((s) => (s.name === "llmzip" ? { bpb: report.totals.llmzip.bpb, bytes: report.totals.llmzip.bytes } : (report.totals.baselines[s.name] ?? null))) },
  ];
  const bar = 12;
  const gap = 18;
  const groupWidth = series.length * bar + gap;
  const left = 64;
  const top = 70;
  const plotHeight = 320;
  // Labels are rotated by 40 degrees: their height is about 4 px per character at 11 px.
  const labelDepth = 18 + Math.min(60, Math.max(...groups.map((g) => g.label.length))) * 4.2;
  const bottom = labelDepth + 34;
  const legendWidth = 210;
  const plotWidth = Math.max(groups.length * groupWidth, 240);
  const width = left + plotWidth + 24 + legendWidth;
  const height = top + plotHeight + bottom;
  const maxValue = Math.max(1, ...groups.flatMap((g) => g.values.map((v) => v?.bpb ?? 0)));
  const step = niceStep(maxValue);
  const yMax = Math.ceil(maxValue / step) * step;
  const y = (v: number) => top + plotHeight - (v / yMax) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.round(height)}" viewBox="0 0 ${width} ${Math.round(height)}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="28" font-size="18" font-weight="bold">Bits per byte by file and compressor (lower is better)</text>`,
    `<text x="${left}" y="50" font-size="12" fill="#555">${xml(`llmzip ${report.tool.version}, model ${report.model.name}, ${report.date.slice(0, 10)}, ${report.machine.cpu} (${report.machine.cores} cores)`)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 8}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle">${Number(v.toFixed(2))}</text>`);
  }
  parts.push(`<text transform="translate(18 ${top + plotHeight / 2}) rotate(-90)" font-size="13" text-anchor="middle">bits per byte</text>`);
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupWidth + gap / 2;
    g.values.forEach((v, si) => {
      if (!v || v.bpb === null) return;
      const s = series[si];
      const yy = y(v.bpb);
      const tip = `${g.label}: ${s?.label} ${v.bpb.toFixed(3)} bits/byte (${groupDigits(v.bytes)} of ${groupDigits(g.bytes)} bytes)`;
      parts.push(
        `<rect x="${(x0 + si * bar).toFixed(1)}" y="${yy.toFixed(1)}" width="${bar - 1}" height="${(top + plotHeight - yy).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${xml(tip)}</title></rect>`,
      );
    });
    const cx = x0 + (series.length * bar) / 2;
    parts.push(
      `<text transform="translate(${cx.toFixed(1)} ${top + plotHeight + 14}) rotate(-40)" font-size="11" text-anchor="end"${g.label === "total" ? ' font-weight="bold"' : ""}>${xml(g.label)}</text>`,
    );
  });
  parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${Math.round(top + plotHeight + labelDepth + 16)}" font-size="13" text-anchor="middle">file</text>`);
  const lx = left + plotWidth + 24;
  parts.push(`<text x="${lx}" y="${top + 4}" font-size="13" font-weight="bold">compressor</text>`);
  series.forEach((s, si) => {
    const ly = top + 20 + si * 20;
    parts.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${PALETTE[si % PALETTE.length]}"/>`);
    parts.push(`<text x="${lx + 20}" y="${ly + 11}" font-size="12">${xml(s.label)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
