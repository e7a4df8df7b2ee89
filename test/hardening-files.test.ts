/**
 * The file side of "lose nothing": a full disk, a folder that cannot be
 * written, an output that is the input, inputs that are not files, stdout
 * that fails, and several runs writing one output at once. Each ends in a
 * one-line error or a complete file, never a partial output, and the input
 * is never touched.
 */
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArchive } from "../src/container/format.js";
import { bin, llmzip, tempDir } from "./helpers/cli.js";
import { isRoot, llmzipAsync, mountTmpfs, tempFiles } from "./helpers/mounts.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const env = { LLMZIP_MODEL: MODEL };
const T = ["--threads", "1"];

const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

function expectOneLine(stderr: Buffer | string, pattern: RegExp) {
  const text = stderr.toString();
  expect(text).toMatch(/^llmzip: [^\n]+\n$/);
  expect(text).toMatch(pattern);
}

describe("files: full disks, unwritable folders, same paths, odd inputs", () => {
  let dir: string;
  let text: string; // model-coded input
  let random: string; // incompressible: stored, so its archive is as large as itself
  let textArchive: string;
  beforeAll(() => {
    dir = tempDir();
    text = path.join(dir, "story.txt");
    fs.writeFileSync(text, fs.readFileSync(corpusPath("canterbury/alice29.txt")).subarray(0, 3000));
    random = path.join(dir, "random.bin");
    fs.writeFileSync(random, crypto.randomBytes(200_000));
    const c = llmzip(["c", ...T, text], { env });
    expect(c.status, c.stderr.toString()).toBe(0);
    textArchive = `${text}.llmz`;
  });

  describe("disk full", () => {
    let fsmall: ReturnType<typeof mountTmpfs>;
    beforeAll(() => {
      fsmall = isRoot ? mountTmpfs(path.join(dir, "full"), { sizeKiB: 64 }) : undefined;
      if (!fsmall) console.log("disk-full tests skipped: mounting a tmpfs needs root (the /dev/full test below still runs)");
    });
    afterAll(() => fsmall?.unmount());

    it("compress into a 64 KiB file system: ENOSPC, no partial file, input kept even with --rm", () => {
      if (!fsmall) return;
      const before = sha(random);
      const out = path.join(fsmall.dir, "random.bin.llmz");
      const r = llmzip(["c", ...T, "--rm", "-o", out, random], { env });
      expect(r.status).toBe(1);
      expectOneLine(r.stderr, /random\.bin\.llmz: cannot write: no space left on device/);
      expect(fs.readdirSync(fsmall.dir)).toEqual([]);
      expect(sha(random)).toBe(before);
    });

    it("decompress into a nearly full file system: ENOSPC, other files there intact", () => {
      if (!fsmall) return;
      const filler = path.join(fsmall.dir, "filler");
      fs.writeFileSync(filler, Buffer.alloc(62 * 1024, 7));
      const r = llmzip(["d", ...T, "-o", path.join(fsmall.dir, "story.txt"), textArchive], { env });
      expect(r.status).toBe(1);
      expectOneLine(r.stderr, /cannot write: no space left on device/);
      expect(fs.readdirSync(fsmall.dir)).toEqual(["filler"]);
      expect(fs.readFileSync(filler).equals(Buffer.alloc(62 * 1024, 7))).toBe(true);
      fs.rmSync(filler);
      // With room again, the same command works.
      const ok = llmzip(["d", ...T, "-o", path.join(fsmall.dir, "story.txt"), textArchive], { env });
      expect(ok.status, ok.stderr.toString()).toBe(0);
      expect(sha(path.join(fsmall.dir, "story.txt"))).toBe(sha(text));
    });
  });

  it("standard output on a full device (/dev/full): one-line error, exit 1", () => {
    const full = fs.openSync("/dev/full", "w");
    try {
      for (const args of [["c", ...T, "-c", text], ["d", ...T, "-c", textArchive]]) {
        const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", full, "pipe"] });
        expect(r.status, args.join(" ")).toBe(1);
        expectOneLine(r.stderr, /cannot write to standard output: no space left on device/);
      }
    } finally {
      fs.closeSync(full);
    }
  });

  it("standard output closed by the reader (EPIPE): quiet exit with the shell's SIGPIPE status, like cat and gzip", async () => {
    const child = spawn(process.execPath, [bin, "d", ...T, "-c", textArchive], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // like `| head -c 0`
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    expect(status).toBe(141);
    expect(stderr).toBe("");
  });

  it("a folder that cannot be written", () => {
    const ro = isRoot ? mountTmpfs(path.join(dir, "ro"), { sizeKiB: 64, readOnly: true }) : undefined;
    const target = ro?.dir ?? path.join(dir, "locked");
    if (!ro) {
      if (isRoot) return console.log("read-only folder test skipped: root ignores permissions and mounting is not allowed");
      fs.mkdirSync(target);
      fs.chmodSync(target, 0o555);
    }
    try {
      const before = sha(text);
      const r = llmzip(["c", ...T, "--rm", "-o", path.join(target, "story.txt.llmz"), text], { env });
      expect(r.status).toBe(1);
      expectOneLine(r.stderr, /cannot write: (read-only file system|permission denied)/);
      expect(fs.readdirSync(target)).toEqual([]);
      expect(sha(text)).toBe(before);
    } finally {
      ro?.unmount();
    }
  });

  it("an output folder that is missing or is a file", () => {
    const missing = llmzip(["d", ...T, "-o", path.join(dir, "no", "such", "dir", "x"), textArchive], { env });
    expect(missing.status).toBe(1);
    expectOneLine(missing.stderr, /cannot write: no such file or directory/);
    const underFile = llmzip(["d", ...T, "-o", path.join(textArchive, "x"), textArchive], { env });
    expect(underFile.status).toBe(1);
    expectOneLine(underFile.stderr, /cannot write: a folder in the path is not a folder/);
  });

  it("output equal to the input: by name, through a symlink and a hard link, with and without -f", () => {
    const link = path.join(dir, "link.llmz");
    const hard = path.join(dir, "hard.txt");
    fs.symlinkSync(text, link);
    fs.linkSync(text, hard);
    const before = sha(text);
    const beforeArchive = sha(textArchive);
    const cases = [
      ["c", "-o", text, text],
      ["c", "-f", "-o", text, text],
      ["c", "-f", "-o", link, text],
      ["c", "-f", "-o", hard, text],
      ["d", "-f", "-o", textArchive, textArchive],
    ];
    for (const args of cases) {
      const r = llmzip([args[0] as string, ...T, ...args.slice(1)], { env });
      expect(r.status, args.join(" ")).toBe(1);
      expectOneLine(r.stderr, /output would overwrite the input/);
    }
    expect(sha(text)).toBe(before);
    expect(sha(textArchive)).toBe(beforeArchive);
    fs.rmSync(link);
    fs.rmSync(hard);
  });

  it("inputs that are not regular files, are missing, or are folders; an existing output", () => {
    const device = llmzip(["c", ...T, "-c", "/dev/zero"], { env });
    expect(device.status).toBe(1);
    expectOneLine(device.stderr, /\/dev\/zero: not a regular file/);
    const folder = path.join(dir, "folder.llmz");
    fs.mkdirSync(folder);
    for (const cmd of ["c", "d"]) {
      const d = llmzip([cmd, ...T, folder], { env });
      expect(d.status).toBe(1);
      expectOneLine(d.stderr, /is a directory/);
      const m = llmzip([cmd, ...T, path.join(dir, "missing.llmz")], { env });
      expect(m.status).toBe(1);
      expectOneLine(m.stderr, /missing\.llmz: no such file or directory/);
    }
    const before = sha(textArchive);
    const exists = llmzip(["c", ...T, text], { env });
    expect(exists.status).toBe(1);
    expectOneLine(exists.stderr, /story\.txt\.llmz: already exists \(use -f to overwrite\)/);
    expect(sha(textArchive)).toBe(before);
  });

  it("a named pipe is read to its end like stdin", async () => {
    const fifo = path.join(dir, "pipe.txt");
    spawnSync("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", `cat '${text}' > '${fifo}'`]);
    const written = new Promise((resolve) => writer.on("close", resolve));
    const r = await llmzipAsync(["c", ...T, "-o", path.join(dir, "pipe.llmz"), fifo], { env });
    await written;
    expect(r.status, r.stderr).toBe(0);
    const back = llmzip(["d", ...T, "-c", path.join(dir, "pipe.llmz")], { env });
    expect(Buffer.compare(back.stdout, fs.readFileSync(text))).toBe(0);
  });

  it("several inputs, one missing: the others are written, exit 1, one line for the missing one", () => {
    const a = path.join(dir, "a.txt");
    const b = path.join(dir, "b.txt");
    fs.writeFileSync(a, "Once upon a time there was a cat.\n");
    fs.writeFileSync(b, "The dog ran to the park.\n");
    const r = llmzip(["c", ...T, a, path.join(dir, "nope.txt"), b], { env });
    expect(r.status).toBe(1);
    expectOneLine(r.stderr, /nope\.txt: no such file or directory/);
    expect(fs.existsSync(`${a}.llmz`) && fs.existsSync(`${b}.llmz`)).toBe(true);
  });
});

describe("concurrent runs writing one output", () => {
  let dir: string;
  let inputs: string[];
  beforeAll(() => {
    dir = tempDir();
    const src = fs.readFileSync(corpusPath("canterbury/alice29.txt"));
    inputs = [0, 1].map((k) => {
      const f = path.join(dir, `in${k}.txt`);
      fs.writeFileSync(f, src.subarray(k * 4000, k * 4000 + 2500));
      return f;
    });
  });

  /** Reads the output as often as it can while writers run: every version it sees must be a complete archive. */
  async function watch(file: string, running: () => boolean): Promise<number> {
    let seen = 0;
    while (running()) {
      let bytes: Buffer | undefined;
      try {
        bytes = fs.readFileSync(file);
      } catch {
        /* not there yet */
      }
      if (bytes) {
        parseArchive(bytes); // throws on a partial or mixed file
        seen++;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return seen;
  }

  it("without -f: exactly one run wins, the others refuse, the file is whole", async () => {
    for (let round = 0; round < 3; round++) {
      const out = path.join(dir, `same${round}.llmz`);
      let running = true;
      const runs = Promise.all([0, 1, 2, 3].map((k) => llmzipAsync(["c", ...T, "-o", out, inputs[k % 2] as string], { env })));
      const watcher = watch(out, () => running);
      const results = await runs;
      running = false;
      await watcher;
      const ok = results.filter((r) => r.status === 0);
      expect(ok.length, results.map((r) => r.stderr).join("")).toBe(1);
      for (const r of results.filter((x) => x.status !== 0)) {
        expect(r.status).toBe(1);
        expectOneLine(r.stderr, /already exists \(use -f to overwrite\)/);
      }
      const back = llmzip(["d", ...T, "-c", out], { env });
      expect(back.status).toBe(0);
      expect(inputs.some((f) => Buffer.compare(back.stdout, fs.readFileSync(f)) === 0)).toBe(true);
      expect(tempFiles(dir)).toEqual([]);
    }
  });

  it("with -f: every run succeeds and the last rename leaves one whole archive", async () => {
    for (let round = 0; round < 3; round++) {
      const out = path.join(dir, `forced${round}.llmz`);
      let running = true;
      const runs = Promise.all([0, 1, 2, 3].map((k) => llmzipAsync(["c", ...T, "-f", "-o", out, inputs[k % 2] as string], { env })));
      const watcher = watch(out, () => running);
      const results = await runs;
      running = false;
      await watcher;
      expect(results.map((r) => r.status)).toEqual([0, 0, 0, 0]);
      const back = llmzip(["d", ...T, "-c", out], { env });
      expect(back.status).toBe(0);
      expect(inputs.some((f) => Buffer.compare(back.stdout, fs.readFileSync(f)) === 0)).toBe(true);
      expect(tempFiles(dir)).toEqual([]);
    }
    // Decompressions racing for one output, too.
    const archive = path.join(dir, "forced0.llmz");
    const target = path.join(dir, "restored.txt");
    const results = await Promise.all([0, 1, 2].map(() => llmzipAsync(["d", ...T, "-f", "-o", target, archive], { env })));
    expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(inputs.some((f) => sha(f) === sha(target))).toBe(true);
    expect(tempFiles(dir)).toEqual([]);
  });
});
