#!/usr/bin/env node
// Lane sweep for the lossless core: compress / decompress / evaluate-only
// tokens per second at several lane counts, the coding step's share of the
// time, and the coder's overhead over the model's cross-entropy.
//
//   node bench/lanes.mjs -m MODEL [--threads N] [--lanes 1,2,4,8,16] [--ctx N] [--bytes N] FILE...
//   node bench/lanes.mjs -m MODEL --overhead FILE...      coded bits / model bits per file (bare model)
//   --no-mix: the sweep and --memory without context mixing (the coder alone)
//   node bench/lanes.mjs -m MODEL --memory FILE           peak RSS of one compress + decompress
import fs from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { LlamaEngine, compress, decompress } from "../dist/index.js";
import { planChunks } from "../dist/codec/chunker.js";

const { values: opt, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: "string", short: "m", default: process.env.LLMZIP_MODEL },
    threads: { type: "string", default: "" },
    lanes: { type: "string", default: "1,2,4,8,16" },
    ctx: { type: "string", default: "512" },
    bytes: { type: "string", default: "0" },
    overhead: { type: "boolean", default: false },
    memory: { type: "boolean", default: false },
    "no-mix": { type: "boolean", default: false },
  },
});
if (!opt.model || files.length === 0) {
  console.error("usage: node bench/lanes.mjs -m MODEL [--threads N] [--lanes LIST] [--ctx N] [--bytes N] [--overhead|--memory] FILE...");
  process.exit(2);
}
// The overhead is the coder's against the model's cross-entropy, so it is measured bare.
const mix = !opt["no-mix"] && !opt.overhead;
const threads = opt.threads ? Number(opt.threads) : undefined;
const ctx = Number(opt.ctx);
const read = (f) => {
  const all = fs.readFileSync(f);
  const n = Number(opt.bytes);
  return n > 0 ? all.subarray(0, Math.min(n, all.length)) : all;
};
const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const engine = LlamaEngine.open(opt.model, { gpu: "off", threads });
console.log(`# ${new Date().toISOString().slice(0, 10)} ${engine.info.name || opt.model}, ${os.cpus()[0]?.model ?? "cpu"} x${os.availableParallelism()}, threads ${engine.info.threads}, ctx ${ctx}, mixing ${mix ? "on" : "off"}`);

async function timed(fn) {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

if (opt.memory) {
  const data = Buffer.concat(files.map(read));
  const [c, cs] = await timed(() => compress(data, { model: opt.model, engine, ctx, forceModel: true, mix }));
  const [d, ds] = await timed(() => decompress(c.archive, { engine }));
  if (!same(d.data, data)) throw new Error("round trip failed");
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`input ${data.length} bytes -> ${c.archive.length} (${((c.archive.length * 8) / data.length).toFixed(3)} bpb), ${c.stats.lanes.tokens} tokens, compress ${cs.toFixed(1)} s, decompress ${ds.toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB`);
} else if (opt.overhead) {
  console.log("| file | bytes | tokens | model bits | table bits | coded bits | coded / table | coded / model |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  let model = 0;
  let table = 0;
  let coded = 0;
  for (const f of files) {
    const data = read(f);
    const { archive, stats } = await compress(data, { model: opt.model, engine, ctx, forceModel: true, mix });
    if (!same((await decompress(archive, { engine })).data, data)) throw new Error(`${f}: round trip failed`);
    const s = stats.lanes;
    const bits = stats.streamBytes * 8;
    model += s.modelBits;
    table += s.tableBits;
    coded += bits;
    console.log(`| ${f.split("/").pop()} | ${data.length} | ${s.tokens} | ${s.modelBits.toFixed(0)} | ${s.tableBits.toFixed(0)} | ${bits} | ${(bits / s.tableBits).toFixed(5)} | ${(bits / s.modelBits).toFixed(5)} |`);
  }
  console.log(`| total | | | ${model.toFixed(0)} | ${table.toFixed(0)} | ${coded} | ${(coded / table).toFixed(5)} | ${(coded / model).toFixed(5)} |`);
} else {
  const data = Buffer.concat(files.map(read));
  const plan = planChunks(data, engine, { maxTokens: ctx }).filter((c) => c.tokens);
  const chunks = plan.map((c) => c.tokens);
  const tokens = chunks.reduce((n, c) => n + c.length, 0);
  console.log(`${data.length} bytes, ${tokens} tokens in ${chunks.length} chunks`);
  console.log("| lanes | compress tok/s | decompress tok/s | evaluate-only tok/s | coding share of compress | coded / model bits |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const lanes of opt.lanes.split(",").map(Number)) {
    const [c, cs] = await timed(() => compress(data, { model: opt.model, engine, lanes, ctx, forceModel: true, mix }));
    const [d, ds] = await timed(() => decompress(c.archive, { engine }));
    if (!same(d.data, data)) throw new Error(`lanes ${lanes}: round trip failed`);
    engine.configure({ lanes: Math.min(lanes, chunks.length), ctx, flashAttention: false, kvType: "f16", adapters: [] });
    const [, es] = await timed(() => engine.encode(chunks, { skipCoding: true }));
    const s = c.stats.lanes;
    const share = s.codingSeconds / (s.codingSeconds + s.decodeSeconds);
    console.log(`| ${lanes} | ${(tokens / c.stats.encodeSeconds).toFixed(0)} | ${(tokens / ds).toFixed(0)} | ${(tokens / es).toFixed(0)} | ${(share * 100).toFixed(1)}% | ${((c.stats.streamBytes * 8) / s.modelBits).toFixed(5)} |`);
    void cs;
  }
}
engine.close();
