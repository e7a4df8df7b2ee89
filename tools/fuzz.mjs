#!/usr/bin/env node
// Long mode of the archive fuzzer: `npm run fuzz -- --cases 10000 [--seed N] [--out DIR]`.
// Runs test/fuzz.test.ts (the same harness as the quick mode in `npm test`)
// with more cases; failing archives are saved under --out for replay.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { option as value } from "./args.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cases = value("--cases", "10000");
const seed = value("--seed", String(Date.now() % 2 ** 31));
const out = path.resolve(value("--out", path.join(root, "tmp", "fuzz-failures")));
if (!/^\d+$/.test(cases) || !/^\d+$/.test(seed)) {
  process.stderr.write("usage: npm run fuzz -- [--cases N] [--seed N] [--out DIR]\n");
  process.exit(2);
}
process.stderr.write(`fuzz: ${cases} cases, seed ${seed}; failing archives go to ${out}\n`);
const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs");
const r = spawnSync(process.execPath, [vitest, "run", "test/fuzz.test.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, LLMZIP_FUZZ_CASES: cases, LLMZIP_FUZZ_SEED: seed, LLMZIP_FUZZ_OUT: out },
});
process.exit(r.status ?? 1);
