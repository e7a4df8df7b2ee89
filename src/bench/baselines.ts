import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { brotliMax } from "../codec/fallback.js";
import { LlmzipError, UsageError } from "../errors.js";
import type { BaselineResult } from "./report.js";

/** The classic compressors bench compares against, in column order. */
export const BASELINE_NAMES = ["gzip", "brotli", "xz", "zstd", "bzip2", "zpaq"] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** A compressor: built in (node:zlib), or an external program fed on stdin. */
export interface Baseline {
  name: BaselineName;
  /** The command line it is equivalent to, for reports. */
  label: string;
  compress(data: Uint8Array): Promise<Uint8Array>;
}

interface ProgramSpec {
  program: string;
  /** Arguments for an input of `size` bytes fed on stdin. */
  args: (size: number) => string[];
  /**
   * The program reads a file and writes an archive file instead of using
   * stdin and stdout: the input is written to `IN` in a fresh temporary
   * folder (the working directory), the archive read back from `OUT`.
   */
  files?: { in: string; out: string };
}

// -T1 keeps xz single-threaded: newer xz versions default to threads, which
// split the input into blocks and compress worse. zstd is told the size, as
// it knows it when compressing a file: without it, level 22 sets up tables
// for a 128 MB window and takes a second and more on any input.
const PROGRAMS: Partial<Record<BaselineName, ProgramSpec>> = {
  xz: { program: "xz", args: () => ["-9e", "-T1", "-c", "-q"] },
  zstd: { program: "zstd", args: (size) => ["--ultra", "-22", `--stream-size=${size}`, "-c", "-q"] },
  bzip2: { program: "bzip2", args: () => ["-9", "-c", "-q"] },
  // zpaq has no stdin-to-stdout mode. Its archive carries the -m5 model
  // description (about 1 KB), which is part of what a zpaq user stores.
  // One thread: more split the input into blocks, as with xz.
  zpaq: { program: "zpaq", args: () => ["add", "out.zpaq", "in", "-method", "5", "-threads", "1"], files: { in: "in", out: "out.zpaq" } },
};

const LABELS: Record<BaselineName, string> = {
  gzip: "gzip -9",
  brotli: "brotli -q 11",
  xz: "xz -9e",
  zstd: "zstd --ultra -22",
  bzip2: "bzip2 -9",
  zpaq: "zpaq -m5",
};

/** Parses `--baselines gzip,xz` (or `none`, or `all`) into names. */
export function parseBaselineList(value: string): BaselineName[] {
  const v = value.trim().toLowerCase();
  if (v === "none") return [];
  if (v === "all" || v === "") return [...BASELINE_NAMES];
  const names = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(BASELINE_NAMES as readonly string[]).includes(n)) throw new UsageError(`unknown baseline '${n}' (choose from ${BASELINE_NAMES.join(", ")}, or none)`);
  }
  return BASELINE_NAMES.filter((n) => names.includes(n));
}

/** The first executable `program` in the folders of `searchPath` (a PATH string). */
export function findProgram(program: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Runs a program with `data` on stdin and resolves to its stdout. */
function pipeThrough(file: string, args: string[], data: Uint8Array, label: string, cwd?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    // A program that exits early closes its stdin; the exit status says why.
    child.stdin.on("error", () => {});
    child.on("error", (e) => reject(new LlmzipError(`${label}: cannot run ${file}: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else {
        const why = Buffer.concat(err).toString("utf8").trim().split("\n")[0] || (signal ? `killed by ${signal}` : `exit status ${code}`);
        reject(new LlmzipError(`${label} failed: ${why}`));
      }
    });
    child.stdin.end(data);
  });
}

/** Runs a program that reads and writes files, in a temporary folder removed afterwards. */
async function throughFiles(file: string, spec: ProgramSpec & { files: { in: string; out: string } }, data: Uint8Array, label: string): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmzip-bench-"));
  try {
    fs.writeFileSync(path.join(dir, spec.files.in), data);
    await pipeThrough(file, spec.args(data.length), new Uint8Array(0), label, dir);
    try {
      return fs.readFileSync(path.join(dir, spec.files.out));
    } catch {
      throw new LlmzipError(`${label} failed: it wrote no ${spec.files.out}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function builtin(name: BaselineName): Baseline | undefined {
  switch (name) {
    case "gzip":
      return { name, label: LABELS.gzip, compress: async (d) => zlib.gzipSync(d, { level: 9 }) };
    case "brotli":
      return { name, label: LABELS.brotli, compress: async (d) => brotliMax(d) };
    default:
      return undefined;
  }
}

/**
 * The baselines to run: gzip and brotli always (node:zlib), the others when
 * their program is on `searchPath`. Missing ones are listed with the reason.
 */
export function resolveBaselines(
  names: readonly BaselineName[],
  searchPath: string = process.env.PATH ?? "",
): { run: Baseline[]; skipped: { name: BaselineName; label: string; reason: string }[] } {
  const run: Baseline[] = [];
  const skipped: { name: BaselineName; label: string; reason: string }[] = [];
  for (const name of names) {
    const b = builtin(name);
    if (b) {
      run.push(b);
      continue;
    }
    const spec = PROGRAMS[name];
    if (!spec) continue;
    const file = findProgram(spec.program, searchPath);
    if (!file) {
      skipped.push({ name, label: LABELS[name], reason: `${spec.program} not on PATH` });
      continue;
    }
    const { files } = spec;
    const compress = files ? (d: Uint8Array) => throughFiles(file, { ...spec, files }, d, LABELS[name]) : (d: Uint8Array) => pipeThrough(file, spec.args(d.length), d, LABELS[name]);
    run.push({ name, label: LABELS[name], compress });
  }
  return { run, skipped };
}

/** Compresses with one baseline and measures it. */
export async function measureBaseline(b: Baseline, data: Uint8Array): Promise<BaselineResult> {
  const t0 = performance.now();
  const out = await b.compress(data);
  const seconds = (performance.now() - t0) / 1000;
  return { bytes: out.length, bpb: data.length > 0 ? (out.length * 8) / data.length : null, seconds };
}
