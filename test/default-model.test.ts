import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArchive } from "../src/container/format.js";
import { CATALOG, LLMZIP_EN_SHA256 } from "../src/models/catalog.js";
import { resolveModel } from "../src/models/resolve.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, repoRoot } from "./helpers/shared.js";

const SHIPPED = path.join(repoRoot, "models", "llmzip-en.gguf");
const TEXT = fs.readFileSync(corpusPath("canterbury/alice29.txt")).subarray(0, 4000);

/** No -m anywhere: an empty llmzip home and no LLMZIP_MODEL, as on a fresh clone. */
let home: string;
let work: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  home = tempDir("llmzip-home-");
  work = tempDir("llmzip-work-");
  env = { LLMZIP_HOME: home, LLMZIP_MODEL: "" };
});
afterAll(() => {
  for (const d of [home, work]) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the installed package (its JavaScript, not its node_modules) whose models/ folder a test may break. */
function packageCopy(model: "missing" | "altered"): string {
  const root = tempDir("llmzip-pkg-");
  for (const f of ["package.json", "bin", "dist"]) fs.cpSync(path.join(repoRoot, f), path.join(root, f), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
  fs.mkdirSync(path.join(root, "models"));
  if (model === "altered") {
    const bytes = fs.readFileSync(SHIPPED);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(path.join(root, "models", "llmzip-en.gguf"), bytes);
  }
  return root;
}

describe("the shipped model is the default", () => {
  it("compress with no -m uses it, and decompress with no -m finds it by fingerprint", () => {
    const input = path.join(work, "notes.txt");
    fs.writeFileSync(input, TEXT);
    // --force-model: the archive must need the model, whatever the stand-in's ratio.
    const c = llmzip(["compress", "--threads", "1", "--force-model", input], { env });
    expect(c.stderr.toString()).toBe("");
    expect(c.status).toBe(0);
    const archive = fs.readFileSync(`${input}.llmz`);
    const model = parseArchive(archive).header.model;
    expect(model?.size).toBe(fs.statSync(SHIPPED).size);
    expect(Buffer.from(model?.sha256 ?? []).toString("hex")).toBe(LLMZIP_EN_SHA256);
    const d = llmzip(["decompress", "--threads", "1", "-c", `${input}.llmz`], { env });
    expect(d.stderr.toString()).toBe("");
    expect(d.status).toBe(0);
    expect(Buffer.compare(d.stdout, TEXT)).toBe(0);
  });

  it("models list shows it as shipped, and as what compress uses", () => {
    const r = llmzip(["models", "list"], { env });
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().trimEnd().split("\n");
    expect(lines[1]).toMatch(new RegExp(`^llmzip-en\\s+shipped\\s+\\S+ MB\\s+${LLMZIP_EN_SHA256.slice(0, 12)}\\s+llama\\s+\\S+\\s+4096\\s+\\d+\\s+${SHIPPED}$`));
    expect(r.stderr.toString()).toBe("compress without -m uses llmzip-en (catalog default)\n");
    const catalog = llmzip(["models", "list", "--catalog"], { env }).stdout.toString().split("\n");
    expect(catalog[1]).toMatch(/^llmzip-en \*\s.*\syes\s/);
  });

  it("still gives way to -m, LLMZIP_MODEL and a configured default", () => {
    const other = path.join(work, "other.gguf");
    fs.copyFileSync(SHIPPED, other);
    expect(resolveModel({ env: { ...env, LLMZIP_MODEL: other } })).toMatchObject({ path: other, via: "env" });
    expect(resolveModel({ env, flag: other })).toMatchObject({ path: other, via: "flag" });
    expect(resolveModel({ env })).toEqual({ path: SHIPPED, spec: "llmzip-en", via: "default" });
  });

  it("a missing or altered shipped file is a one-line error, for compress and for -m llmzip-en", () => {
    const input = path.join(work, "short.txt");
    fs.writeFileSync(input, "Hello.\n");
    const missing = packageCopy("missing");
    const altered = packageCopy("altered");
    try {
      expect(() => resolveModel({ env, packageRoot: missing, catalog: CATALOG })).toThrow("model llmzip-en ships with llmzip as models/llmzip-en.gguf, which is missing: reinstall llmzip");
      for (const [root, message] of [
        [missing, /^llmzip: model llmzip-en ships with llmzip as models\/llmzip-en\.gguf, which is missing: reinstall llmzip\n$/],
        [altered, /^llmzip: the shipped model models\/llmzip-en\.gguf is not the one this llmzip was released with \(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\): reinstall llmzip, or pass -m PATH\n$/],
      ] as const) {
        for (const args of [["c", "-c", input], ["c", "-c", "-m", "llmzip-en", input]]) {
          const r = llmzip(args, { env, cwd: work, bin: path.join(root, "bin", "llmzip.js") });
          expect(r.stderr.toString()).toMatch(message);
          expect(r.status).toBe(1);
        }
      }
      // An archive of the shipped model, decompressed where it is missing: what to do, in one line.
      const archive = path.join(work, "notes.txt.llmz");
      expect(fs.existsSync(archive)).toBe(true);
      const d = llmzip(["d", "-c", archive], { env, bin: path.join(missing, "bin", "llmzip.js") });
      expect(d.stderr.toString()).toMatch(/^llmzip: this archive needs the model llmzip-en \([\d.]+ MB, sha256 [0-9a-f]{64}\), which ships with llmzip as models\/llmzip-en\.gguf but is missing or damaged here: reinstall llmzip, or pass -m PATH to your copy\n$/);
      expect(d.status).toBe(1);
    } finally {
      for (const d of [missing, altered]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
