import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ModelError, UsageError } from "../src/errors.js";
import type { CatalogEntry } from "../src/models/catalog.js";
import { updateConfig } from "../src/models/config.js";
import { fingerprintFile, sha256File } from "../src/models/fingerprint.js";
import { listCatalog, listModels } from "../src/models/list.js";
import { storePaths } from "../src/models/paths.js";
import { addModel, removeModel } from "../src/models/register.js";
import { readRegistry } from "../src/models/registry.js";
import { resolveModel, resolveModelSpec } from "../src/models/resolve.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { modelPath } from "./helpers/shared.js";

const STORIES = modelPath("stories260K.gguf");
const STORIES_Q8 = modelPath("stories260K-Q8_0.gguf");
const STORIES_SHA = "659643879ac601981aca21e827e328f6440b26f477a9fea02b70f2544a0c7072";

let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = tempDir("llmzip-home-");
  work = tempDir("llmzip-work-");
  process.env.LLMZIP_HOME = home;
  env = { LLMZIP_HOME: home };
});
afterEach(() => {
  for (const d of [home, work]) fs.rmSync(d, { recursive: true, force: true });
});
const suiteHome = process.env.LLMZIP_HOME;
afterAll(() => {
  process.env.LLMZIP_HOME = suiteHome;
});

function copyModel(to: string, from = STORIES): string {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  return to;
}

/** Local models other than the one shipped in this package (always listed, and tested in default-model.test.ts). */
const notShipped = <T extends { origin: string }>(rows: T[]) => rows.filter((m) => m.origin !== "package");

describe("model registry", () => {
  it("round-trips add, list and rm, and never deletes a file outside the cache", async () => {
    const added = await addModel(STORIES, { env, name: "Tiny" });
    expect(added).toMatchObject({ name: "tiny", path: STORIES, size: 1185440, sha256: STORIES_SHA, source: "local" });
    expect(added.info.architecture).toBe("llama");
    const listed = notShipped(await listModels({ env }));
    expect(listed).toEqual([
      expect.objectContaining({ name: "tiny", origin: "registered", path: STORIES, sha256: STORIES_SHA, architecture: "llama", parameters: 292800, vocabSize: 512, contextLength: 512, modelName: "stories260K" }),
    ]);
    // Adding the same file again refreshes; another file under the same name is refused.
    await addModel(STORIES, { env, name: "tiny" });
    await expect(addModel(STORIES_Q8, { env, name: "tiny" })).rejects.toThrow(/already registered for .*stories260K\.gguf/);
    await addModel(STORIES_Q8, { env });
    expect(readRegistry(storePaths(home)).map((m) => m.name)).toEqual(["stories260k-q8_0", "tiny"]);

    const r = removeModel("tiny", { env });
    expect(r).toEqual({ name: "tiny", path: STORIES, wasRegistered: true, deletedFile: false, clearedDefault: false });
    expect(fs.existsSync(STORIES)).toBe(true);
    expect(readRegistry(storePaths(home)).map((m) => m.name)).toEqual(["stories260k-q8_0"]);
    expect(() => removeModel("tiny", { env })).toThrow(ModelError);
  });

  it("rejects names that could read as paths or URIs, adapters and non-models", async () => {
    for (const bad of ["a/b", "hf:x", "x.gguf", "", "-x", "a b"]) await expect(addModel(STORIES, { env, name: bad })).rejects.toBeInstanceOf(UsageError);
    await expect(addModel(modelPath("stories260K-lora-random.gguf"), { env })).rejects.toThrow(/is a LoRA adapter, not a model/);
    const junk = path.join(work, "junk.gguf");
    fs.writeFileSync(junk, "not a model");
    await expect(addModel(junk, { env })).rejects.toThrow(/not a valid GGUF model file/);
    expect(readRegistry(storePaths(home))).toEqual([]);
  });

  it("lists cached downloads that are not registered, and rm deletes those files", async () => {
    const cached = copyModel(path.join(home, "models", "url", "example.org", "Foo.Q8_0.gguf"));
    fs.writeFileSync(path.join(home, "models", "url", "example.org", "Bar.gguf.part"), "partial");
    const rows = notShipped(await listModels({ env }));
    expect(rows.map((m) => [m.name, m.origin, m.sha256])).toEqual([["foo.q8_0", "cache", STORIES_SHA]]);
    const r = removeModel("foo.q8_0", { env });
    expect(r).toMatchObject({ wasRegistered: false, deletedFile: true });
    expect(fs.existsSync(cached)).toBe(false);
  });

  it("rm deletes a registered file in the cache, unless another name still uses it", async () => {
    const cached = copyModel(path.join(home, "models", "mine.gguf"));
    await addModel(cached, { env, name: "one" });
    await addModel(cached, { env, name: "two" });
    updateConfig(storePaths(home), { model: "two" });
    expect(removeModel("one", { env })).toMatchObject({ deletedFile: false });
    expect(fs.existsSync(cached)).toBe(true);
    expect(removeModel("two", { env })).toMatchObject({ deletedFile: true, clearedDefault: true });
    expect(fs.existsSync(cached)).toBe(false);
    expect(JSON.parse(fs.readFileSync(storePaths(home).config, "utf8"))).toEqual({});
  });

  it("reports a damaged registry instead of forgetting it", async () => {
    fs.writeFileSync(storePaths(home).registry, "{ not json");
    await expect(listModels({ env })).rejects.toThrow(`${storePaths(home).registry} is not valid JSON; fix or remove it`);
    fs.writeFileSync(storePaths(home).registry, JSON.stringify({ version: 7, models: {} }));
    expect(() => readRegistry(storePaths(home))).toThrow(/registry version 7/);
  });

  it("shows a registered model whose file has gone", async () => {
    const f = copyModel(path.join(work, "gone.gguf"));
    await addModel(f, { env });
    fs.rmSync(f);
    const [row] = await listModels({ env });
    expect(row).toMatchObject({ name: "gone", size: -1, problem: "file is missing" });
    expect(() => resolveModelSpec("gone", { env })).toThrow(/points at .*gone\.gguf, which no longer exists/);
  });
});

describe("fingerprint cache", () => {
  it("is used while a file is unchanged and recomputed when it changes", async () => {
    const f = copyModel(path.join(work, "m.gguf"));
    // A whole-second mtime, so that it can be restored exactly after the rewrite below.
    const mtime = 1_700_000_000;
    fs.utimesSync(f, mtime, mtime);
    expect((await fingerprintFile(f)).sha256.toString("hex")).toBe(STORIES_SHA);
    const cacheFile = path.join(home, "fingerprints.json");
    const cache = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as Record<string, { sha256: string }>;
    expect(cache[f]?.sha256).toBe(STORIES_SHA);

    // Proof that a hit skips hashing: a planted value comes back while the file is untouched.
    const planted = "ab".repeat(32);
    fs.writeFileSync(cacheFile, JSON.stringify({ ...cache, [f]: { ...cache[f], sha256: planted } }));
    expect((await fingerprintFile(f)).sha256.toString("hex")).toBe(planted);

    // Same size, same mtime, different bytes: ctime gives it away.
    const fd = fs.openSync(f, "r+");
    fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 5000);
    fs.closeSync(fd);
    fs.utimesSync(f, mtime, mtime);
    expect(fs.statSync(f).mtimeMs).toBe(mtime * 1000);
    const changed = (await fingerprintFile(f)).sha256;
    expect(changed.toString("hex")).toBe((await sha256File(f)).toString("hex"));
    expect(changed.toString("hex")).not.toBe(STORIES_SHA);

    // A size change too.
    fs.appendFileSync(f, "x");
    const grown = await fingerprintFile(f);
    expect(grown.size).toBe(1185441);
    expect(grown.sha256.equals(changed)).toBe(false);
    expect(grown.sha256.equals(await sha256File(f))).toBe(true);
  });
});

describe("model resolution", () => {
  const hubEntry: CatalogEntry = {
    kind: "hub",
    name: "tiny",
    description: "test",
    uri: "hf:tester/tiny-GGUF@abc123/stories260K.gguf",
    sha256: STORIES_SHA,
    pin: "test",
    approxBytes: 1.2e6,
    parameters: "260K",
    license: "MIT",
    recommended: true,
  };
  const packaged: CatalogEntry = { kind: "package", name: "builtin", description: "shipped", file: "models/builtin.gguf", sha256: STORIES_SHA, approxBytes: 1.2e6, parameters: "260K", license: "MIT", recommended: true };
  const hubCachePath = () => path.join(home, "models", "hf", "tester", "tiny-GGUF", "abc123", "stories260K.gguf");

  it("follows -m, then LLMZIP_MODEL, then the config file, then the catalog default", async () => {
    const catalog = [hubEntry];
    const opts = { env, catalog, packageRoot: work };
    expect(() => resolveModel(opts)).toThrow(new ModelError("no model configured: run 'llmzip models pull tiny' once (about 1 MB), or pass -m PATH to a GGUF model (or set LLMZIP_MODEL)"));

    copyModel(hubCachePath());
    expect(resolveModel(opts)).toEqual({ path: hubCachePath(), spec: "tiny", via: "default" });

    await addModel(STORIES_Q8, { env, name: "q8" });
    updateConfig(storePaths(home), { model: "q8" });
    expect(resolveModel(opts)).toEqual({ path: STORIES_Q8, spec: "q8", via: "config" });

    const envOpts = { ...opts, env: { ...env, LLMZIP_MODEL: STORIES } };
    expect(resolveModel(envOpts)).toEqual({ path: STORIES, spec: STORIES, via: "env" });
    expect(resolveModel({ ...envOpts, flag: "tiny" })).toEqual({ path: hubCachePath(), spec: "tiny", via: "flag" });
    expect(resolveModel({ ...envOpts, flag: "hf:tester/tiny-GGUF@abc123/stories260K.gguf" }).path).toBe(hubCachePath());
  });

  it("prefers a model shipped in the package as the default, and lists it", async () => {
    const catalog = [packaged, hubEntry];
    copyModel(path.join(work, "models", "builtin.gguf"));
    expect(resolveModel({ env, catalog, packageRoot: work })).toEqual({ path: path.join(work, "models", "builtin.gguf"), spec: "builtin", via: "default" });
    const rows = await listModels({ env, catalog, packageRoot: work });
    expect(rows.map((m) => [m.name, m.origin, m.sha256])).toEqual([["builtin", "package", STORIES_SHA]]);
    expect(() => removeModel("builtin", { env, catalog, packageRoot: work })).toThrow(/ships with llmzip/);
    expect(listCatalog({ env, catalog, packageRoot: work }).map((e) => [e.name, e.path])).toEqual([
      ["builtin", path.join(work, "models", "builtin.gguf")],
      ["tiny", undefined],
    ]);
  });

  it("says what to run for each kind of model that is not here", async () => {
    const opts = { env, catalog: [hubEntry], packageRoot: work };
    expect(() => resolveModelSpec("tiny", opts)).toThrow("model tiny is not downloaded yet: run 'llmzip models pull tiny' (about 1 MB)");
    expect(() => resolveModelSpec("hf:someone/repo/x.gguf", opts)).toThrow("hf:someone/repo/x.gguf is not downloaded yet: run 'llmzip models pull hf:someone/repo/x.gguf'");
    expect(() => resolveModelSpec("./missing.gguf", opts)).toThrow("model file not found: ./missing.gguf");
    expect(() => resolveModelSpec("nothing", opts)).toThrow(/^unknown model 'nothing'/);
    expect(() => resolveModelSpec("builtin", { ...opts, catalog: [{ ...packaged, recommended: false }] })).toThrow(/ships with llmzip as models\/builtin\.gguf, which is missing: reinstall llmzip/);
    await addModel(STORIES, { env, name: "mine" });
    expect(() => resolveModel(opts)).toThrow("no default model: pass -m NAME (here: mine), or set one with 'llmzip models default NAME'");
  });

  it("has a real catalog: pinned revisions and sha256 for every hub entry, unique names", () => {
    const rows = listCatalog({ env });
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    expect(rows.filter((r) => r.recommended).length).toBeGreaterThanOrEqual(1);
    for (const r of rows) {
      // Shipped entries name a file in the package (its sha256 is checked in shipped-model.test.ts).
      if (r.pin === "shipped with llmzip") {
        expect(r.source).toMatch(/^models\/[a-z0-9.-]+\.gguf$/);
        expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
        continue;
      }
      expect(r.source).toMatch(/^hf:[A-Za-z0-9-]+\/[A-Za-z0-9._-]+@[0-9a-f]{40}\/[A-Za-z0-9._-]+\.gguf$/);
      if (r.sha256 !== undefined) expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      else expect(r.pin).toMatch(/not verified|unpinned/i);
    }
  });
});

describe("llmzip models (CLI)", () => {
  it("adds, lists (text and JSON), sets the default and removes", () => {
    const add = llmzip(["models", "add", STORIES, "--name", "tiny"], { env });
    expect(add.status).toBe(0);
    expect(add.stderr.toString()).toBe(`registered tiny: ${STORIES} (1.2 MB, llama, 293K parameters, sha256 659643879ac6…)\n`);
    const text = llmzip(["models", "list"], { env });
    const lines = text.stdout.toString().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+SIZE\s+SHA256\s+ARCH\s+PARAMS\s+VOCAB\s+CTX\s+PATH$/);
    expect(lines[1]).toMatch(new RegExp(`^tiny\\s+registered\\s+1\\.2 MB\\s+659643879ac6\\s+llama\\s+293K\\s+512\\s+512\\s+${STORIES}$`));
    // The model shipped with llmzip is listed after the registered ones, and is what compress uses until a default is set.
    expect(lines[2]).toMatch(/^llmzip-en\s+shipped\s/);
    expect(text.stderr.toString()).toBe("compress without -m uses llmzip-en (catalog default)\n");
    expect(llmzip(["models", "default", "tiny"], { env }).status).toBe(0);
    expect(llmzip(["models", "default"], { env }).stdout.toString()).toBe("tiny\n");
    expect(llmzip(["models", "list"], { env }).stderr.toString()).toBe("compress without -m uses tiny (config)\n");
    const typo = llmzip(["models", "default", "tinny"], { env });
    expect(typo.status).toBe(1);
    const rm = llmzip(["models", "rm", "tiny"], { env });
    expect(rm.stderr.toString()).toBe(
      `removed tiny from the registry; the file ${STORIES} was left in place (it is not in llmzip's cache)\ntiny was the default model; no default is set now\n`,
    );
    const left = JSON.parse(llmzip(["models", "list", "--json"], { env }).stdout.toString()) as { name: string; origin: string }[];
    expect(left.map((m) => [m.name, m.origin])).toEqual([["llmzip-en", "package"]]);
    const cat = JSON.parse(llmzip(["models", "list", "--catalog", "--json"], { env }).stdout.toString()) as { name: string }[];
    expect(cat.map((e) => e.name)).toContain("smollm2-135m");
  });

  it("exits 1 with one line for a bad file and 2 for bad usage", () => {
    const bad = llmzip(["models", "add", path.join(work, "nope.gguf")], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr.toString()).toBe(`llmzip: model file not found: ${path.join(work, "nope.gguf")}\n`);
    const usage = llmzip(["models", "add", STORIES, "--name", "a/b"], { env });
    expect(usage.status).toBe(2);
    expect(usage.stderr.toString()).toMatch(/^llmzip: bad model name 'a\/b'/);
  });
});
