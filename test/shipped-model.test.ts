import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOG, LLMZIP_EN_SHA256, packagedFile } from "../src/models/catalog.js";
import { repoRoot } from "./helpers/shared.js";

/**
 * The model that ships in models/ against its catalog entry. A unit test on
 * purpose: it hashes the file but loads no model, so a re-exported GGUF
 * without the matching catalog line fails the first, fastest test run.
 */
describe("the shipped default model", () => {
  const entry = CATALOG[0];

  it("is the catalog's first entry, recommended, shipped in the package", () => {
    expect(entry).toMatchObject({ kind: "package", name: "llmzip-en", file: "models/llmzip-en.gguf", recommended: true });
  });

  it("has the sha256 the catalog pins (archives name their model by it)", () => {
    if (entry?.kind !== "package") throw new Error("no packaged entry");
    const file = packagedFile(entry, repoRoot);
    const bytes = fs.readFileSync(file);
    expect(createHash("sha256").update(bytes).digest("hex"), `update LLMZIP_EN_SHA256 in src/models/catalog.ts to \`sha256sum ${entry.file}\``).toBe(LLMZIP_EN_SHA256);
    expect(entry.sha256).toBe(LLMZIP_EN_SHA256);
    // The limit for a model that every clone carries.
    expect(bytes.length).toBeLessThanOrEqual(10 * 1024 * 1024);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("GGUF");
  });

  it("has its Hugging Face tokenizer.json beside it", () => {
    const file = path.join(repoRoot, "models", "llmzip-en.tokenizer.json");
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as {
      model: { type: string; vocab: Record<string, number>; merges: string[] };
      added_tokens: { id: number; content: string; special: boolean }[];
      decoder: { type: string };
    };
    expect(json.model.type).toBe("BPE");
    expect(json.decoder.type).toBe("ByteLevel");
    const size = Object.keys(json.model.vocab).length;
    expect(json.added_tokens.map((t) => [t.content, t.id, t.special])).toEqual([
      ["<s>", size - 2, true],
      ["</s>", size - 1, true],
    ]);
  });

  it("is part of the package: not ignored by git, not left out of npm's files", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { files?: string[] };
    if (pkg.files) expect(pkg.files.some((f) => f === "models" || f.startsWith("models/"))).toBe(true);
    const ignore = fs.readFileSync(path.join(repoRoot, ".gitignore"), "utf8").split("\n");
    expect(ignore.filter((l) => /^\/?models\b|\*\.gguf/.test(l.trim()))).toEqual([]);
  });
});
