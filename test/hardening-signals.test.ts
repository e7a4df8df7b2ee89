/**
 * SIGINT and SIGTERM sent to the real CLI in every phase of a run: while
 * the model codes or decodes, while brotli works through a large input,
 * while stdin stays open. The process must exit 130/143 within a few
 * seconds, leave no output and no temporary file, and keep its input.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bin, llmzip, tempDir } from "./helpers/cli.js";
import { tempFiles } from "./helpers/mounts.js";
import { corpusPath, modelPath } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const env = { ...process.env, LLMZIP_MODEL: MODEL };
const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

interface Interrupted {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Seconds from the (first) signal to the exit. */
  exitSeconds: number;
}

/**
 * Starts the CLI, waits until `ready` holds for its stderr (or `afterMs`),
 * sends the signal(s) and waits for the exit.
 */
function interrupt(args: string[], opts: { signals: NodeJS.Signals[]; ready?: RegExp; afterMs?: number; keepStdinOpen?: boolean }): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: [opts.keepStdinOpen ? "pipe" : "ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    let sentAt = 0;
    const send = () => {
      if (sentAt) return;
      sentAt = performance.now();
      opts.signals.forEach((sig, i) => setTimeout(() => child.kill(sig), i * 200));
    };
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (opts.ready?.test(stderr)) send();
    });
    if (opts.afterMs !== undefined) setTimeout(send, opts.afterMs);
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the run never ended; stderr: ${stderr}`));
    }, 90_000);
    child.on("close", (code) => {
      clearTimeout(guard);
      if (!sentAt) return reject(new Error(`the run ended (${code}) before it was signalled; stderr: ${stderr}`));
      resolve({ code, stdout: Buffer.concat(out), stderr, exitSeconds: (performance.now() - sentAt) / 1000 });
    });
  });
}

describe("signals during compress and decompress", () => {
  let dir: string;
  let text: string;
  let archive: string;
  let bigBinary: string;
  beforeAll(() => {
    dir = tempDir();
    text = path.join(dir, "book.txt");
    // ~25,000 tokens: several seconds of coding on one thread.
    fs.writeFileSync(text, fs.readFileSync(corpusPath("canterbury/lcet10.txt")).subarray(0, 30_000));
    const c = llmzip(["c", "--threads", "1", "--force-model", "-o", path.join(dir, "book.llmz"), text], { env });
    expect(c.status, c.stderr.toString()).toBe(0);
    archive = path.join(dir, "book.llmz");
    // Incompressible: brotli -q 11 spends many seconds on it before any model runs.
    bigBinary = path.join(dir, "big.bin");
    fs.writeFileSync(bigBinary, crypto.randomBytes(12 * 2 ** 20));
  });

  /** Nothing but the inputs (and the prepared archive) may remain in the folder. */
  function expectNothingWritten(extra: string[] = []) {
    expect(tempFiles(dir)).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(["big.bin", "book.llmz", "book.txt", ...extra].sort());
  }

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal} while the model codes: exit ${code}, no output, input kept (also with --rm)`, async () => {
      const before = sha(text);
      const r = await interrupt(["c", "--threads", "1", "-v", "--force-model", "--rm", "-o", path.join(dir, "out.llmz"), text], { signals: [signal], ready: /encode .*tok\/s/ });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(/llmzip: interrupted/);
      expect(r.exitSeconds).toBeLessThan(5);
      expect(sha(text)).toBe(before);
      expectNothingWritten();
    });

    it(`${signal} while the model decodes: exit ${code}, no output file, nothing on stdout`, async () => {
      const toFile = await interrupt(["d", "--threads", "1", "-v", "-o", path.join(dir, "restored.txt"), archive], { signals: [signal], ready: /decode .*tok\/s/ });
      expect(toFile.code, toFile.stderr).toBe(code);
      expect(toFile.exitSeconds).toBeLessThan(5);
      const toStdout = await interrupt(["d", "--threads", "1", "-v", "-c", archive], { signals: [signal], ready: /decode .*tok\/s/ });
      expect(toStdout.code).toBe(code);
      expect(toStdout.stdout.length).toBe(0);
      expectNothingWritten();
    });
  }

  // The input is read (and the signal handlers are in place) before brotli starts.
  const readingDone = /big\.bin: \d+ bytes read/;

  it("SIGINT while brotli works through 12 MB (uninterruptible work on the thread pool): exit 130 within the grace period", async () => {
    const r = await interrupt(["c", "--threads", "1", "-v", "-o", path.join(dir, "big.llmz"), bigBinary], { signals: ["SIGINT"], ready: readingDone });
    expect(r.code, r.stderr).toBe(130);
    expect(r.exitSeconds).toBeLessThan(8);
    expect(r.stderr).toMatch(/^llmzip: interrupted/m);
    expectNothingWritten();
  });

  it("a second signal leaves at once", async () => {
    const r = await interrupt(["c", "--threads", "1", "-v", "-o", path.join(dir, "big.llmz"), bigBinary], { signals: ["SIGTERM", "SIGTERM"], ready: readingDone });
    expect(r.code).toBe(143);
    expect(r.exitSeconds).toBeLessThan(2.5);
    expectNothingWritten();
  });

  it("SIGTERM while stdin stays open: exit 143, nothing on stdout", async () => {
    const r = await interrupt(["c", "--threads", "1"], { signals: ["SIGTERM"], afterMs: 1000, keepStdinOpen: true });
    expect(r.code).toBe(143);
    expect(r.exitSeconds).toBeLessThan(8);
    expect(r.stdout.length).toBe(0);
  });
});
