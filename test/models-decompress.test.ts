import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { parseArchive } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { ModelError } from "../src/errors.js";
import type { CatalogEntry } from "../src/models/catalog.js";
import { describeMissingModel, findModelByFingerprint, modelLocator } from "../src/models/find.js";
import { addModel } from "../src/models/register.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const STORIES = modelPath("stories260K.gguf");
const STORIES_Q8 = modelPath("stories260K-Q8_0.gguf");
const STORIES_SHA = "659643879ac601981aca21e827e328f6440b26f477a9fea02b70f2544a0c7072";
const TEXT = fs.readFileSync(corpusPath("misc/gettysburg.txt"));

let archive: Uint8Array;
let home: string;
let work: string;
let env: NodeJS.ProcessEnv;
let archiveFile: string;

beforeAll(async () => {
  const engine = LlamaEngine.open(STORIES, { gpu: "off", threads: 1 });
  try {
    archive = (await compress(TEXT, { model: STORIES, engine, forceModel: true })).archive;
  } finally {
    engine.close();
  }
});

beforeEach(() => {
  home = tempDir("llmzip-home-");
  work = tempDir("llmzip-work-");
  process.env.LLMZIP_HOME = home;
  env = { LLMZIP_HOME: home, LLMZIP_MODEL: "" };
  archiveFile = path.join(work, "g.txt.llmz");
  fs.writeFileSync(archiveFile, archive);
});
afterEach(() => {
  for (const d of [home, work]) fs.rmSync(d, { recursive: true, force: true });
});
const suiteHome = process.env.LLMZIP_HOME;
afterAll(() => {
  process.env.LLMZIP_HOME = suiteHome;
});

const decodeCli = (extraEnv: NodeJS.ProcessEnv = {}) => llmzip(["d", "--threads", "1", archiveFile], { env: { ...env, ...extraEnv } });
const restored = () => path.join(work, "g.txt");

describe("decompress finds its model by fingerprint", () => {
  it("the archive records stories260K's name, size and sha256", () => {
    const { header } = parseArchive(archive);
    expect(header.model?.name).toBe("stories260K");
    expect(header.model?.size).toBe(1185440);
    expect(Buffer.from(header.model?.sha256 ?? []).toString("hex")).toBe(STORIES_SHA);
  });

  it("without a matching model: one line naming the model and how to get it, no output", () => {
    const r = decodeCli();
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toBe(
      `llmzip: this archive needs the model stories260K (1.2 MB, sha256 ${STORIES_SHA}), which is not registered or downloaded here: register your copy with 'llmzip models add PATH', or pass -m PATH\n`,
    );
    expect(fs.existsSync(restored())).toBe(false);
  });

  it("finds a registered model without -m, even when LLMZIP_MODEL names another model", () => {
    expect(llmzip(["models", "add", STORIES_Q8], { env }).status).toBe(0);
    expect(decodeCli().status).toBe(1);
    expect(llmzip(["models", "add", STORIES, "--name", "tiny"], { env }).status).toBe(0);
    const r = decodeCli({ LLMZIP_MODEL: STORIES_Q8 });
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(restored()), TEXT)).toBe(0);
  });

  it("finds a model that is only in the download cache", () => {
    const cached = path.join(home, "models", "hf", "someone", "repo", "main", "whatever.gguf");
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.copyFileSync(STORIES, cached);
    const r = decodeCli();
    expect(r.status).toBe(0);
    expect(Buffer.compare(fs.readFileSync(restored()), TEXT)).toBe(0);
  });

  it("-m still means exactly that model, by path or by name", () => {
    expect(llmzip(["models", "add", STORIES_Q8, "--name", "q8"], { env }).status).toBe(0);
    const wrong = llmzip(["d", "--threads", "1", "-m", "q8", archiveFile], { env });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr.toString()).toMatch(/^llmzip: wrong model: the archive needs stories260K/);
    const byPath = llmzip(["d", "--threads", "1", "-c", "-m", STORIES, archiveFile], { env });
    expect(byPath.status).toBe(0);
    expect(Buffer.compare(byPath.stdout, TEXT)).toBe(0);
  });

  it("compress without -m uses the configured default (not the shipped model), and decompress finds it again", () => {
    const input = path.join(work, "note.txt");
    fs.writeFileSync(input, "Once upon a time there was a little cat.\n");
    expect(llmzip(["models", "add", STORIES, "--name", "tiny"], { env }).status).toBe(0);
    expect(llmzip(["models", "default", "tiny"], { env }).status).toBe(0);
    expect(llmzip(["c", "--threads", "1", "--force-model", input], { env }).status).toBe(0);
    expect(parseArchive(fs.readFileSync(`${input}.llmz`)).header.model?.name).toBe("stories260K");
    fs.rmSync(input);
    expect(llmzip(["d", "--threads", "1", `${input}.llmz`], { env }).status).toBe(0);
    expect(fs.readFileSync(input, "utf8")).toBe("Once upon a time there was a little cat.\n");
  });
});

describe("library lookup", () => {
  it("decompress() takes a locateModel callback", async () => {
    await addModel(STORIES, { env, name: "tiny" });
    const calls: string[] = [];
    const locate = modelLocator({ env });
    const back = await decompress(archive, {
      threads: 1,
      locateModel: async (ref) => {
        calls.push(ref.name);
        return locate(ref);
      },
    });
    expect(calls).toEqual(["stories260K"]);
    expect(Buffer.compare(Buffer.from(back.data), TEXT)).toBe(0);
  });

  it("the locator's error names the model; a catalog pin turns the hint into a pull command", async () => {
    const { header } = parseArchive(archive);
    const ref = header.model;
    if (!ref) throw new Error("archive has no model");
    await expect(modelLocator({ env })(ref)).rejects.toBeInstanceOf(ModelError);
    const catalog: CatalogEntry[] = [{ kind: "hub", name: "tiny", description: "t", uri: "hf:a/b/stories260K.gguf", sha256: STORIES_SHA, pin: "t", approxBytes: 1e6, parameters: "260K", license: "MIT" }];
    expect(describeMissingModel(ref, { env, catalog })).toBe(
      `this archive needs the model stories260K (1.2 MB, sha256 ${STORIES_SHA}), which is not registered or downloaded here: run 'llmzip models pull tiny', or pass -m PATH to your copy`,
    );
  });

  it("finds a model shipped in the package, and tries preferred files first", async () => {
    const { header } = parseArchive(archive);
    const ref = header.model;
    if (!ref) throw new Error("archive has no model");
    const root = path.join(work, "pkg");
    fs.mkdirSync(path.join(root, "models"), { recursive: true });
    fs.copyFileSync(STORIES, path.join(root, "models", "default.gguf"));
    const catalog: CatalogEntry[] = [{ kind: "package", name: "default", description: "d", file: "models/default.gguf", sha256: STORIES_SHA, approxBytes: 1e6, parameters: "260K", license: "MIT" }];
    expect(await findModelByFingerprint(ref, { env, catalog, packageRoot: root })).toMatchObject({ name: "default", origin: "package", path: path.join(root, "models", "default.gguf") });
    const preferred = await findModelByFingerprint(ref, { env, catalog, packageRoot: root, preferred: [STORIES_Q8, STORIES] });
    expect(preferred?.path).toBe(STORIES);
    expect(await findModelByFingerprint({ size: ref.size, sha256: Buffer.alloc(32) }, { env, catalog, packageRoot: root })).toBeUndefined();
  });
});
