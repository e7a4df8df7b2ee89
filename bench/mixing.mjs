#!/usr/bin/env node
// Context mixing against the bare model, per file: bits per byte of the
// model-coded archive with and without mixing (--force-model, so both code
// the same chunks), tokens per second of each, and xz -9e, zstd --ultra -22
// and brotli -q 11 on the same bytes.
//
//   node bench/mixing.mjs -m MODEL [--threads N] [--bytes N] [--out results.jsonl] FILE|DIR...
//   node bench/mixing.mjs --report results.jsonl [more.jsonl ...]
//
// --bytes N codes only the first N bytes of each file (cut back to a line end).
// "payload only" leaves out the archive's header (chunk table, model identity).
// --out appends one JSON line per file, so that long runs can be split into
// several commands and reported together with --report.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { LlamaEngine, compress, decompress } from "../dist/index.js";
import { brotliMax } from "../dist/codec/fallback.js";
import { parseHeader } from "../dist/container/format.js";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: "string", short: "m", default: process.env.LLMZIP_MODEL },
    threads: { type: "string", default: "1" },
    bytes: { type: "string", default: "0" },
    out: { type: "string", default: "" },
    report: { type: "boolean", default: false },
    verify: { type: "boolean", default: false },
  },
});

const bpb = (bytes, n) => (n > 0 ? (bytes * 8) / n : 0);
const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "-");

/** Prints the markdown table of result rows, grouped by corpus folder. */
function report(rows) {
  console.log("| file | bytes | bare model | mixed | change | mixed, payload only | xz -9e | zstd -22 | brotli 11 | tok/s bare | tok/s mixed |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const groups = new Map();
  for (const r of rows) {
    const g = path.basename(path.dirname(r.file));
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(r);
  }
  const sum = (list, k) => list.reduce((n, r) => n + r[k], 0);
  for (const r of rows) r.mixedPayload ??= r.mixedStream; // rows of earlier runs: all model chunks
  const line = (name, list) => {
    const n = sum(list, "bytes");
    const bare = sum(list, "bare");
    const mixed = sum(list, "mixed");
    const tokens = sum(list, "tokens");
    console.log(
      `| ${name} | ${n} | ${fmt(bpb(bare, n))} | ${fmt(bpb(mixed, n))} | ${fmt((mixed / bare - 1) * 100, 1)}% | ${fmt(bpb(sum(list, "mixedPayload"), n))} | ${fmt(bpb(sum(list, "xz"), n))} | ${fmt(bpb(sum(list, "zstd"), n))} | ${fmt(bpb(sum(list, "brotli"), n))} | ${fmt(tokens / sum(list, "bareSeconds"), 0)} | ${fmt(tokens / sum(list, "mixedSeconds"), 0)} |`,
    );
  };
  for (const [g, list] of groups) {
    for (const r of list) line(`${g}/${path.basename(r.file)}`, [r]);
    if (list.length > 1) line(`**${g} total**`, list);
  }
  if (groups.size > 1) line("**all**", rows);
  const worst = rows.reduce((w, r) => (r.mixed / r.bare > w.mixed / w.bare ? r : w), rows[0]);
  if (worst) console.log(`\nworst file against the bare model: ${path.basename(worst.file)} ${fmt((worst.mixed / worst.bare - 1) * 100, 2)}%`);
}

if (opt.report) {
  const rows = positionals.flatMap((f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
  report(rows);
  process.exit(0);
}
if (!opt.model || positionals.length === 0) {
  console.error("usage: node bench/mixing.mjs -m MODEL [--threads N] [--bytes N] [--out FILE] FILE|DIR...  |  --report FILE...");
  process.exit(2);
}

const files = positionals.flatMap((p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).sort().map((f) => path.join(p, f)) : [p]));
const limit = Number(opt.bytes);
function read(file) {
  const all = fs.readFileSync(file);
  if (!(limit > 0) || all.length <= limit) return all;
  const cut = all.lastIndexOf(0x0a, limit - 1);
  return all.subarray(0, cut >= limit / 2 ? cut + 1 : limit);
}

/** Size of an external compressor's output, or NaN when it is not installed. */
function external(cmd, args, data) {
  const r = spawnSync(cmd, args, { input: data, maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout.length : Number.NaN;
}

const engine = LlamaEngine.open(opt.model, { gpu: "off", threads: Number(opt.threads) });
console.error(`# ${new Date().toISOString().slice(0, 10)} ${engine.info.name || opt.model}, ${os.cpus()[0]?.model ?? "cpu"} x${os.availableParallelism()}, threads ${engine.info.threads}${limit > 0 ? `, first ${limit} bytes of each file` : ""}`);
const rows = [];
try {
  for (const file of files) {
    const data = read(file);
    const run = async (mix) => {
      const { archive, stats } = await compress(data, { model: opt.model, engine, forceModel: true, mix });
      if (opt.verify) {
        const back = await decompress(archive, { engine });
        if (Buffer.compare(Buffer.from(back.data), data) !== 0) throw new Error(`${file}: round trip failed`);
      }
      // The payload: streams and fallback blobs, without the header and its chunk table.
      const payload = archive.length - parseHeader(archive).headerEnd - 4;
      return { bytes: archive.length, payload, chunks: stats.modelChunks, tokens: stats.lanes?.tokens ?? 0, seconds: stats.encodeSeconds };
    };
    const bare = await run(false);
    const mixed = await run(true);
    const row = {
      file,
      bytes: data.length,
      tokens: mixed.tokens,
      bare: bare.bytes,
      mixed: mixed.bytes,
      barePayload: bare.payload,
      mixedPayload: mixed.payload,
      chunks: mixed.chunks,
      bareSeconds: bare.seconds,
      mixedSeconds: mixed.seconds,
      xz: external("xz", ["-9e", "-c"], data),
      zstd: external("zstd", ["-q", "--ultra", "-22", "-c"], data),
      brotli: brotliMax(data).length,
    };
    rows.push(row);
    if (opt.out) fs.appendFileSync(opt.out, `${JSON.stringify(row)}\n`);
    console.error(`${file}: ${data.length} bytes, bare ${fmt(bpb(row.bare, row.bytes))} -> mixed ${fmt(bpb(row.mixed, row.bytes))} bpb (xz ${fmt(bpb(row.xz, row.bytes))})`);
  }
} finally {
  engine.close();
}
report(rows);
