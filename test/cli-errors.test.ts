import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { llmzip, tempDir } from "./helpers/cli.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const OTHER = modelPath("stories260K-Q8_0.gguf");
const env = { LLMZIP_MODEL: MODEL };

/** One line on stderr, `llmzip: ...`, no stack trace. */
function expectOneLineError(stderr: Buffer, pattern: RegExp) {
  const text = stderr.toString();
  expect(text).toMatch(/^llmzip: [^\n]+\n$/);
  expect(text).toMatch(pattern);
  expect(text).not.toMatch(/\n\s+at /);
}

describe("bad input on the command line", () => {
  let dir: string;
  let archive: Buffer;
  beforeAll(() => {
    dir = tempDir();
    const input = path.join(dir, "story.txt");
    fs.writeFileSync(input, fs.readFileSync(corpusPath("misc/gettysburg.txt")));
    const c = llmzip(["c", "--threads", "1", "--force-model", input], { env });
    expect(c.status).toBe(0);
    archive = fs.readFileSync(`${input}.llmz`);
  });

  /** Writes a damaged archive, decompresses it, and checks that nothing but one error line came out. */
  function decompressDamaged(name: string, bytes: Uint8Array, extra: string[] = [], runEnv = env) {
    const file = path.join(dir, `${name}.llmz`);
    fs.writeFileSync(file, bytes);
    const r = llmzip(["d", "--threads", "1", ...extra, file], { env: runEnv });
    expect(r.status).toBe(1);
    expect(fs.existsSync(path.join(dir, name))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    return r;
  }

  it("truncated archive", () => {
    for (const n of [3, 10, Math.floor(archive.length / 2), archive.length - 1]) {
      expectOneLineError(decompressDamaged(`trunc${n}`, archive.subarray(0, n)).stderr, /truncated|corrupt|not an llmzip/);
    }
  });

  it("flipped bytes in the header and in the payload", () => {
    for (const at of [6, 12, 30, archive.length - 20, archive.length - 1]) {
      const bad = Buffer.from(archive);
      bad[at] = (bad[at] as number) ^ 0x10;
      expectOneLineError(decompressDamaged(`flip${at}`, bad).stderr, /corrupt/);
    }
  });

  it("a file that is not an llmzip archive", () => {
    expectOneLineError(decompressDamaged("notes.txt", Buffer.from("just some text\n")).stderr, /not an llmzip archive/);
  });

  it("the wrong model names the one that is needed", () => {
    const r = decompressDamaged("wrongmodel", archive, ["-m", OTHER]);
    expectOneLineError(r.stderr, /wrong model: the archive needs stories260K .*sha256/);
  });

  it("a backend other than the archive's is refused", () => {
    const r = decompressDamaged("wrongbackend", archive, ["--gpu", "cuda"]);
    expectOneLineError(r.stderr, /coded on the cpu backend/);
  });

  it("no model at all says how to give one", () => {
    const r = decompressDamaged("nomodel", archive, [], { LLMZIP_MODEL: "" });
    expectOneLineError(r.stderr, /needs the model stories260K.*-m PATH/);
  });

  it("a missing input, a directory, and usage errors (exit 2)", () => {
    const missing = llmzip(["c", path.join(dir, "nope.txt")], { env });
    expect(missing.status).toBe(1);
    expectOneLineError(missing.stderr, /nope\.txt: no such file or directory/);
    const isDir = llmzip(["c", dir], { env });
    expect(isDir.status).toBe(1);
    expectOneLineError(isDir.stderr, /is a directory/);
    const badFlag = llmzip(["c", "--lanes", "zero", path.join(dir, "story.txt")], { env });
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr.toString()).toMatch(/--lanes must be a whole number/);
    const unknown = llmzip(["c", "--bogus"], { env });
    expect(unknown.status).toBe(2);
    const suffix = llmzip(["d", path.join(dir, "story.txt")], { env });
    expect(suffix.status).toBe(2);
    expectOneLineError(suffix.stderr, /unknown suffix/);
  });
});
