#!/usr/bin/env node
// Pruning policies side by side (docs/LOSSY.md): for each file, one scoring
// pass, then every policy at every KEEP on the same scores: archive bytes
// against the lossless archive, coded information per archive bit
// (measureCodedInformation) and self-information per archive bit. With
// --time, lossless compression and `--prune` with the default policy, one
// after the other in one process, twice per KEEP, in CPU seconds and wall
// seconds. With --rank, the coded measure for the whole text, each policy at
// 0.7 and 0.3, and unrelated texts (the ranking the model test checks).
//
//   node bench/prune-policies.mjs -m MODEL [--bytes 16000] [--keeps 0.3,0.5,0.7] [--policies sentence,word-mean,random,truncate] [--time] FILE...
//   node bench/prune-policies.mjs -m MODEL --rank --bytes 6000 FILE UNRELATED...
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { LlamaEngine, compress, compressPruned, measureCodedInformation, pruneText, scoreText } from "../dist/index.js";

const { values: opt, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: "string", short: "m", default: process.env.LLMZIP_MODEL },
    threads: { type: "string", default: "1" },
    bytes: { type: "string", default: "16000" },
    keeps: { type: "string", default: "0.3,0.5,0.7" },
    policies: { type: "string", default: "sentence,word-mean,random,truncate" },
    time: { type: "boolean", default: false },
    rank: { type: "boolean", default: false },
  },
});
if (!opt.model || files.length === 0) {
  console.error("usage: node bench/prune-policies.mjs -m MODEL [--bytes N] [--keeps K,...] [--policies P,...] [--time] [--rank] FILE...");
  process.exit(2);
}
const model = opt.model;
const keeps = opt.keeps.split(",").map(Number);
const policies = opt.policies.split(",");
const engine = LlamaEngine.open(model, { threads: Number(opt.threads) });

/** The first --bytes bytes, cut after a line break so that no character is split. */
function prefix(file) {
  const d = fs.readFileSync(file);
  const max = Number(opt.bytes);
  if (!max || d.length <= max) return d;
  const cut = d.lastIndexOf(0x0a, max);
  return d.subarray(0, cut > 0 ? cut + 1 : max);
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
async function timed(run) {
  const c = cpu();
  const t = performance.now();
  await run();
  return { cpu: cpu() - c, wall: (performance.now() - t) / 1000 };
}

try {
  if (opt.rank) {
    const [file, ...unrelated] = files;
    const data = prefix(file);
    const alone = (await measureCodedInformation(data, new Uint8Array(0), { engine })).bitsAlone;
    const info = async (t) => (await measureCodedInformation(data, t, { engine, bitsAlone: alone })).informationBits;
    const s = await scoreText(data, { engine });
    const out = { file: path.basename(file), bytes: data.length, tokens: s.tokens.length, alone, full: await info(data) };
    for (const p of policies) for (const k of [0.7, 0.3]) out[`${p}@${k}`] = await info(pruneText(data, s.tokens, k, p).text);
    for (const u of unrelated) out[path.basename(u)] = await info(prefix(u));
    console.log(JSON.stringify(out));
  } else {
    for (const file of files) {
      const data = prefix(file);
      const lossless = await compress(data, { model, engine });
      const s = await scoreText(data, { engine });
      const alone = (await measureCodedInformation(data, new Uint8Array(0), { engine })).bitsAlone;
      const full = (await measureCodedInformation(data, data, { engine, bitsAlone: alone })).informationBits;
      console.log(JSON.stringify({ file: path.basename(file), bytes: data.length, tokens: s.tokens.length, lossless: lossless.archive.length, codedAlone: alone, codedFull: full }));
      if (opt.time) {
        for (const keep of keeps) {
          const l = [];
          const p = [];
          for (let rep = 0; rep < 2; rep++) {
            l.push(await timed(() => compress(data, { model, engine })));
            p.push(await timed(() => compressPruned(data, { model, engine, keep })));
          }
          const sum = (xs, k) => xs.reduce((n, x) => n + x[k], 0);
          console.log(JSON.stringify({ file: path.basename(file), keep, losslessCpu: sum(l, "cpu"), pruneCpu: sum(p, "cpu"), cpuRatio: sum(p, "cpu") / sum(l, "cpu"), wallRatio: sum(p, "wall") / sum(l, "wall") }));
        }
      }
      for (const keep of keeps) {
        for (const policy of policies) {
          const r = pruneText(data, s.tokens, keep, policy);
          const c = await compress(r.text, { model, engine });
          const info = (await measureCodedInformation(data, r.text, { engine, bitsAlone: alone })).informationBits;
          const bits = c.archive.length * 8;
          console.log(JSON.stringify({ file: path.basename(file), keep, policy, archive: c.archive.length, ofLossless: c.archive.length / lossless.archive.length, codedPerBit: info / bits, selfPerBit: r.keptBits / bits, kept: r.keptTokens / r.totalTokens }));
        }
      }
    }
  }
} finally {
  engine.close();
}
