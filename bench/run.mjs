#!/usr/bin/env node
// The repository's benchmark: `llmzip bench` over the shared corpora, writing
// a markdown report, an SVG chart and the JSON under bench/results/, and with
// --readme the summary in docs/BENCHMARKS.md. A developer tool: it may default to
// ../shared, which product code never does.
//
//   npm run bench -- [--model PATH] [--shared DIR] [--corpora canterbury,calgary|all]
//                    [--threads N] [--out DIR] [--tag NAME] [--readme [--reuse]]
//                    [-- more llmzip bench flags]
//
// Model: --model, else $LLMZIP_MODEL, else <shared>/models/stories260K.gguf.
// Shared folder: --shared, else $LLMZIP_SHARED, else ../shared beside the checkout.
// Outputs: <out>/<corpora>-<model>[-<tag>].{md,svg,json}. --reuse: no run, only
// the summary from the JSON of an earlier one.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dashes = process.argv.indexOf("--");
const own = dashes < 0 ? process.argv.slice(2) : process.argv.slice(2, dashes);
const passThrough = dashes < 0 ? [] : process.argv.slice(dashes + 1);
const { values } = parseArgs({
  args: own,
  options: {
    model: { type: "string", short: "m" },
    shared: { type: "string" },
    corpora: { type: "string", default: "canterbury" },
    threads: { type: "string", default: process.env.LLMZIP_THREADS ?? "1" },
    out: { type: "string", default: path.join(root, "bench", "results") },
    tag: { type: "string" },
    readme: { type: "boolean", default: false },
    reuse: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 14).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(0);
}

const shared = path.resolve(values.shared ?? process.env.LLMZIP_SHARED ?? path.join(root, "..", "shared"));
const model = path.resolve(values.model ?? process.env.LLMZIP_MODEL ?? path.join(shared, "models", "stories260K.gguf"));
const corporaDir = path.join(shared, "corpora");
const fail = (msg) => {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
};
if (!fs.existsSync(model)) fail(`model not found: ${model} (give --model or set LLMZIP_MODEL)`);
if (!fs.existsSync(corporaDir)) fail(`no corpora in ${shared} (give --shared or set LLMZIP_SHARED)`);
const corpora = values.corpora === "all" ? fs.readdirSync(corporaDir).filter((d) => fs.statSync(path.join(corporaDir, d)).isDirectory()).sort() : values.corpora.split(",");
for (const c of corpora) if (!fs.existsSync(path.join(corporaDir, c))) fail(`no corpus '${c}' in ${corporaDir}`);
if (!fs.existsSync(path.join(root, "dist", "cli", "main.js"))) fail("dist/ is missing: run npm run build first");

const stem = `${corpora.join("+")}-${path.basename(model, ".gguf")}${values.tag ? `-${values.tag}` : ""}`;
fs.mkdirSync(values.out, { recursive: true });
const md = path.join(values.out, `${stem}.md`);
const svg = path.join(values.out, `${stem}.svg`);
const json = path.join(values.out, `${stem}.json`);
const args = [path.join(root, "bin", "llmzip.js"), "bench", "-m", model, "--threads", values.threads, "--json", "--markdown", md, "--chart", svg, ...passThrough, ...corpora.map((c) => path.join(corporaDir, c))];
let status = 0;
if (!values.reuse) {
  process.stderr.write(`bench: llmzip ${args.slice(1).map((a) => path.relative(root, a) || a).join(" ")}\n`);
  const t0 = Date.now();
  const run = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 });
  if (run.error) fail(run.error.message);
  status = run.status ?? 1;
  if (!run.stdout.length) process.exit(status);
  fs.writeFileSync(json, run.stdout);
  process.stderr.write(`bench: done in ${((Date.now() - t0) / 1000).toFixed(0)} s; wrote ${[md, svg, json].map((f) => path.relative(root, f)).join(", ")}\n`);
} else if (!fs.existsSync(json)) fail(`--reuse: no earlier run at ${json}`);
const report = JSON.parse(fs.readFileSync(json, "utf8"));

/** One line on llmzip's own totals: how much the model coded, how well, how fast. */
function summaryLine(report) {
  const t = report.totals.llmzip;
  const vs = `llmzip ${report.totals.llmzip.bytes.toLocaleString("en-US")} bytes in all, brotli -q 11 ${report.totals.baselines.brotli?.bytes.toLocaleString("en-US") ?? "-"}`;
  if (!t.modelBytes) return `- The model coded no byte (brotli was smaller on every chunk); ${vs}.`;
  const share = ((100 * t.modelBytes) / report.totals.bytes).toFixed(0);
  const rate = (v) => (v === null ? "-" : Math.round(v).toLocaleString("en-US"));
  return `- The model coded ${share}% of the bytes, where the bare model's cross-entropy is ${t.modelBpb.toFixed(3)} bits/byte; the coded stream is ${t.overheadPct.toFixed(3)}% off that (negative: context mixing beat the bare model); ${vs}. Tokens/s (noisy, shared machine): compress ${rate(t.compressTokensPerSec)}, decompress ${rate(t.decompressTokensPerSec)}, eval-only ${rate(t.evalOnlyTokensPerSec)}.`;
}

if (values.readme) {
  const { renderBpbTable, describeSetting } = await import(path.join(root, "dist", "bench", "index.js"));
  const readme = path.join(root, "docs", "BENCHMARKS.md");
  const text = fs.readFileSync(readme, "utf8");
  const begin = "<!-- bench:results:begin -->";
  const end = "<!-- bench:results:end -->";
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) fail(`docs/BENCHMARKS.md has no ${begin} ... ${end} section`);
  // Links are relative to docs/, the shown names to the repository root.
  const rel = (f) => path.relative(root, f).split(path.sep).join("/");
  const link = (f) => `[${rel(f)}](${path.relative(path.dirname(readme), f).split(path.sep).join("/")})`;
  const t = report.totals.llmzip;
  const body = [
    begin,
    `Latest run of \`npm run bench -- --corpora ${corpora.join(",")}${values.tag ? ` --tag ${values.tag}` : ""}${passThrough.length ? ` -- ${passThrough.join(" ")}` : ""}\` (full report: ${link(md)}, chart: ${link(svg)}):`,
    "",
    ...describeSetting(report),
    summaryLine(report),
    "",
    renderBpbTable(report),
    end,
  ].join("\n");
  fs.writeFileSync(readme, text.slice(0, a) + body + text.slice(b + end.length));
  process.stderr.write("bench: updated docs/BENCHMARKS.md\n");
}
process.exit(status);
