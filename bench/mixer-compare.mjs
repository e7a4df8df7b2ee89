#!/usr/bin/env node
// Mixer configurations side by side: archive bytes per file for each mixer
// id (and the bare model), the same chunks for all (--force-model unless
// --default), tokens per second of each, and xz -9e and zpaq -m5 on the
// same bytes. One JSON line per (file, mixer) with --out, so that long runs
// can be split and reported together with --report.
//
//   node bench/mixer-compare.mjs -m MODEL --mixers 0,1,2 [--bytes N] [--default] [--verify] [--out F.jsonl] FILE...
//   node bench/mixer-compare.mjs --report F.jsonl...
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { LlamaEngine, compress, decompress } from "../dist/index.js";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: "string", short: "m", default: process.env.LLMZIP_MODEL },
    threads: { type: "string", default: "1" },
    bytes: { type: "string", default: "0" },
    mixers: { type: "string", default: "1,2" },
    baselines: { type: "boolean", default: false },
    default: { type: "boolean", default: false },
    verify: { type: "boolean", default: false },
    out: { type: "string", default: "" },
    report: { type: "boolean", default: false },
  },
});

function external(cmd, args, data) {
  const r = spawnSync(cmd, args, { input: data, maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout.length : Number.NaN;
}

/** zpaq -m5 archive size (zpaq writes archives to files only). */
function zpaq(data) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zpaq-"));
  try {
    fs.writeFileSync(path.join(dir, "in"), data);
    const r = spawnSync("zpaq", ["a", "out.zpaq", "in", "-m5"], { cwd: dir });
    return r.status === 0 ? fs.statSync(path.join(dir, "out.zpaq")).size : Number.NaN;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(rows) {
  const files = [...new Set(rows.map((r) => r.file))];
  const ids = [...new Set(rows.filter((r) => r.mixer !== "xz" && r.mixer !== "zpaq").map((r) => r.mixer))].sort((a, b) => a - b);
  const cols = [...ids.map((m) => `mixer ${m}`), "xz -9e", "zpaq -m5"];
  console.log(`| file | bytes | ${cols.join(" | ")} |`);
  console.log(`|---|---:|${cols.map(() => "---:").join("|")}|`);
  const get = (f, m) => rows.filter((r) => r.file === f && r.mixer === m).at(-1);
  const total = Object.fromEntries([...ids, "xz", "zpaq"].map((m) => [m, 0]));
  let totalBytes = 0;
  const complete = [];
  for (const f of files) {
    const cells = [...ids, "xz", "zpaq"].map((m) => get(f, m));
    const first = cells.find(Boolean);
    if (cells.every(Boolean)) {
      complete.push(f);
      totalBytes += first.bytes;
      [...ids, "xz", "zpaq"].forEach((m, i) => (total[m] += cells[i].size));
    }
    console.log(`| ${path.basename(f)} | ${first.bytes} | ${cells.map((c) => (c ? c.size : "-")).join(" | ")} |`);
  }
  console.log(`| **total** (${complete.length} files) | ${totalBytes} | ${[...ids, "xz", "zpaq"].map((m) => total[m]).join(" | ")} |`);
  for (const m of ids) {
    const tps = rows.filter((r) => r.mixer === m && complete.includes(r.file));
    const tok = tps.reduce((n, r) => n + r.tokens, 0);
    const sec = tps.reduce((n, r) => n + r.seconds, 0);
    const coding = tps.reduce((n, r) => n + (r.codingSeconds ?? 0), 0);
    console.log(`mixer ${m}: ${(total[m] / total.zpaq).toFixed(3)}x zpaq, ${(total[m] / total.xz).toFixed(3)}x xz, ${(tok / sec).toFixed(0)} tok/s, coding ${((coding / tok) * 1e6).toFixed(1)} us/token`);
  }
}

if (opt.report) {
  report(positionals.flatMap((f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))));
  process.exit(0);
}

const limit = Number(opt.bytes);
function read(file) {
  const all = fs.readFileSync(file);
  if (!(limit > 0) || all.length <= limit) return all;
  const cut = all.lastIndexOf(0x0a, limit - 1);
  return all.subarray(0, cut >= limit / 2 ? cut + 1 : limit);
}
const emit = (row) => {
  if (opt.out) fs.appendFileSync(opt.out, `${JSON.stringify(row)}\n`);
  console.error(JSON.stringify(row));
};
const engine = LlamaEngine.open(opt.model, { gpu: "off", threads: Number(opt.threads) });
try {
  for (const file of positionals) {
    const data = read(file);
    if (opt.baselines) {
      emit({ file, bytes: data.length, mixer: "xz", size: external("xz", ["-9e", "-c"], data) });
      emit({ file, bytes: data.length, mixer: "zpaq", size: zpaq(data) });
    }
    for (const m of opt.mixers.split(",").filter(Boolean).map(Number)) {
      const t0 = performance.now();
      const { archive, stats } = await compress(data, { model: opt.model, engine, forceModel: !opt.default, ...(m === 0 ? { mix: false } : { mixer: m }) });
      const seconds = (performance.now() - t0) / 1000;
      if (opt.verify) {
        const back = await decompress(archive, { engine });
        if (Buffer.compare(Buffer.from(back.data), data) !== 0) throw new Error(`${file}: mixer ${m}: round trip failed`);
      }
      emit({ file, bytes: data.length, mixer: m, size: archive.length, tokens: stats.lanes?.tokens ?? 0, seconds: stats.encodeSeconds ?? seconds, codingSeconds: stats.lanes?.codingSeconds ?? 0 });
    }
  }
} finally {
  engine.close();
}
