#!/usr/bin/env node
// The training tool's door to llmzip's own engine (llama.cpp), so that training
// sees exactly the token sequences llmzip codes and results are measured by
// the coder itself, not by a re-implementation.
//
//   node tools/train/engine.mjs tokens  --model M [--ctx N] --out F FILE...
//       Cuts each file into chunks the way `llmzip compress` does and writes them:
//       per chunk u32 byte length, u32 token count, then the int32 tokens (LE).
//       Pieces the model cannot code (binary, tokenizer round-trip failures) are skipped.
//   node tools/train/engine.mjs measure --model M [--adapter PATH[:SCALE]]... [--ctx N] FILE...
//       Compresses each file with the model (every representable chunk model-coded)
//       and prints one JSON line per file: bytes, archive bytes, model bits, bits per byte.
//   node tools/train/engine.mjs info --model M
//       Prints the model's vocabulary size, start token and context length as JSON.
// Run `npm run build` first (this imports dist/).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = (rel) => import(pathToFileURL(path.join(root, "dist", rel)).href);

function parse(argv) {
  const opts = { adapters: [], files: [], threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--model") opts.model = next();
    else if (a === "--ctx") opts.ctx = Number(next());
    else if (a === "--out") opts.out = next();
    else if (a === "--threads") opts.threads = Number(next());
    else if (a === "--lanes") opts.lanes = Number(next());
    else if (a === "--adapter") {
      const spec = next();
      const m = /^(.*?)(?::([0-9.eE+-]+))?$/.exec(spec);
      opts.adapters.push({ path: m[1], scale: m[2] === undefined ? 1 : Number(m[2]) });
    } else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (!opts.model) throw new Error("--model is required");
  return opts;
}

async function tokens(opts, engine) {
  const { planChunks } = await dist("codec/chunker.js");
  if (!opts.out) throw new Error("--out is required");
  const ctx = opts.ctx ?? Math.min(engine.info.contextLength || 2048, 2048);
  const parts = [];
  let chunks = 0;
  let codedBytes = 0;
  let skippedBytes = 0;
  for (const file of opts.files) {
    const data = fs.readFileSync(file);
    for (const c of planChunks(data, engine, { maxTokens: ctx })) {
      if (!c.tokens) {
        skippedBytes += c.end - c.start;
        continue;
      }
      const head = Buffer.alloc(8);
      head.writeUInt32LE(c.end - c.start, 0);
      head.writeUInt32LE(c.tokens.length, 4);
      parts.push(head, Buffer.from(c.tokens.buffer, c.tokens.byteOffset, c.tokens.byteLength));
      chunks++;
      codedBytes += c.end - c.start;
    }
  }
  fs.writeFileSync(opts.out, Buffer.concat(parts));
  console.log(JSON.stringify({ chunks, codedBytes, skippedBytes, ctx, startToken: engine.info.startToken }));
}

async function measure(opts, engine) {
  const { compress } = await dist("codec/compress.js");
  const { decompress } = await dist("codec/decompress.js");
  for (const file of opts.files) {
    const data = fs.readFileSync(file);
    const { archive, stats } = await compress(data, {
      model: opts.model,
      engine,
      forceModel: true,
      adapters: opts.adapters,
      ctx: opts.ctx,
      lanes: opts.lanes,
    });
    const back = await decompress(archive, { engine, adapters: opts.adapters.map((a) => a.path) });
    const exact = Buffer.compare(Buffer.from(back.data), data) === 0;
    const modelBits = stats.lanes?.modelBits ?? 0;
    console.log(
      JSON.stringify({
        file: path.basename(file),
        bytes: data.length,
        archiveBytes: archive.length,
        modelBytes: stats.modelBytes,
        modelBits,
        bitsPerByte: (archive.length * 8) / data.length,
        modelBitsPerByte: stats.modelBytes ? modelBits / stats.modelBytes : null,
        roundTrip: exact,
      }),
    );
    if (!exact) process.exitCode = 1;
  }
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const opts = parse(rest);
  const { LlamaEngine } = await dist("engine/engine.js");
  const engine = LlamaEngine.open(opts.model, { gpu: "off", threads: opts.threads });
  try {
    if (cmd === "tokens") await tokens(opts, engine);
    else if (cmd === "measure") await measure(opts, engine);
    else if (cmd === "info") console.log(JSON.stringify({ vocabSize: engine.info.vocabSize, startToken: engine.info.startToken, contextLength: engine.info.contextLength, parameters: engine.info.parameters }));
    else throw new Error("usage: engine.mjs tokens|measure|info --model M ...");
  } finally {
    engine.close();
  }
}

main().catch((e) => {
  console.error(`engine.mjs: ${e.message}`);
  process.exit(1);
});
