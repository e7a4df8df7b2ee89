#!/usr/bin/env node
// Long mode for large inputs (not part of `npm test`): a big text file and a
// file that is one long line, each compressed and decompressed by the real
// CLI with the model, compared byte for byte, with the peak RSS of every run.
//
//   npm run stress -- [--mb 50] [--line-mb 10] [--model PATH] [--threads 1]
//                     [--interrupt-after SECONDS] [--dir DIR]
//
// stories260K codes about 8,000 tokens/s on one core, so 50 MB (about 40M
// tokens) takes hours; --interrupt-after stops each compression with SIGINT
// after that many seconds and reports the peak memory up to then (planning,
// tokens and the start of coding: where the memory is allocated), and checks
// that the interrupted run left nothing behind.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hasOption, option as opt } from "./args.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.LLMZIP_SHARED ?? path.resolve(root, "..", "shared");
const model = opt("--model", process.env.LLMZIP_MODEL ?? path.join(shared, "models", "stories260K.gguf"));
const textMb = Number(opt("--mb", "50"));
const lineMb = Number(opt("--line-mb", "10"));
const threads = opt("--threads", "1");
const interruptAfter = opt("--interrupt-after", undefined);
const dir = opt("--dir", fs.mkdtempSync(path.join(os.tmpdir(), "llmzip-stress-")));
const bin = path.join(root, "bin", "llmzip.js");
const HOOK = `data:text/javascript,process.on("exit",()=>process.stderr.write("\\nllmzip-peak-rss="+process.resourceUsage().maxRSS*1024+"\\n"))`;

/** Text of the corpora (or --source files), repeated to `bytes`. */
function makeText(bytes, oneLine) {
  const sources = hasOption("--source")
    ? [opt("--source")]
    : ["canterbury/alice29.txt", "canterbury/lcet10.txt", "canterbury/plrabn12.txt", "calgary/book1", "calgary/book2", "gutenberg/pg1661.txt"].map((f) => path.join(shared, "corpora", f));
  let text = Buffer.concat(sources.map((f) => fs.readFileSync(f)));
  if (oneLine) text = Buffer.from(text.toString("latin1").replace(/[\r\n]+/g, " "), "latin1");
  const out = Buffer.alloc(bytes);
  for (let off = 0; off < bytes; off += text.length) text.copy(out, off, 0, Math.min(text.length, bytes - off));
  if (!oneLine) out[bytes - 1] = 0x0a;
  return out;
}

/** Runs the CLI; resolves with its exit code, wall time and peak RSS. */
function run(cliArgs, stopAfterSeconds) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", HOOK, bin, ...cliArgs], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LLMZIP_MODEL: model } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d.toString()));
    const timer = stopAfterSeconds ? setTimeout(() => child.kill("SIGINT"), stopAfterSeconds * 1000) : undefined;
    child.on("close", (code) => {
      clearTimeout(timer);
      const m = /\nllmzip-peak-rss=(\d+)\n/.exec(stderr);
      resolve({ code, seconds: (performance.now() - t0) / 1000, peakRss: m ? Number(m[1]) : NaN, stderr: m ? stderr.replace(m[0], "") : stderr });
    });
  });
}

const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;

async function stress(name, data) {
  const input = path.join(dir, name);
  fs.writeFileSync(input, data);
  const archive = `${input}.llmz`;
  // --force-model: the point is the model path at size (brotli wins on repeated text and would skip decoding).
  const c = await run(["c", "--threads", threads, "--force-model", "-f", "-o", archive, input], interruptAfter && Number(interruptAfter));
  if (interruptAfter && c.code === 130) {
    const left = fs.readdirSync(dir).filter((f) => f !== name);
    console.log(`${name}: ${(data.length / 1e6).toFixed(1)} MB, compression interrupted after ${c.seconds.toFixed(0)} s (exit 130), peak RSS ${mib(c.peakRss)}, files left: ${left.length ? left.join(" ") : "none"}`);
    fs.rmSync(input);
    return left.length === 0;
  }
  if (c.code !== 0) {
    console.log(`${name}: compress failed (${c.code}): ${c.stderr.trim()}`);
    return false;
  }
  const back = `${input}.back`;
  const d = await run(["d", "--threads", threads, "-f", "-o", back, archive]);
  const exact = d.code === 0 && fs.readFileSync(back).equals(data);
  const size = fs.statSync(archive).size;
  console.log(
    `${name}: ${(data.length / 1e6).toFixed(1)} MB -> ${size} bytes (${((size * 8) / data.length).toFixed(3)} bits/byte); ` +
      `compress ${c.seconds.toFixed(0)} s, peak RSS ${mib(c.peakRss)}; decompress ${d.seconds.toFixed(0)} s, peak RSS ${mib(d.peakRss)}; ${exact ? "exact" : `NOT EXACT (${d.code}: ${d.stderr.trim()})`}`,
  );
  for (const f of [input, archive, back]) fs.rmSync(f, { force: true });
  return exact;
}

console.log(`llmzip stress: model ${model}, threads ${threads}, in ${dir}${interruptAfter ? `, compressions stopped after ${interruptAfter} s` : ""}`);
let ok = true;
if (textMb > 0) ok = (await stress(`text-${textMb}MB.txt`, makeText(Math.round(textMb * 1e6), false))) && ok;
if (lineMb > 0) ok = (await stress(`line-${lineMb}MB.txt`, makeText(Math.round(lineMb * 1e6), true))) && ok;
process.exit(ok ? 0 : 1);
