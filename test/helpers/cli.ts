import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./shared.js";

export const bin = path.join(repoRoot, "bin", "llmzip.js");

/** Runs the built CLI as a real process (`opts.bin`: another copy's launcher). */
export function llmzip(args: string[], opts: { input?: Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string; bin?: string } = {}): SpawnSyncReturns<Buffer> {
  return spawnSync(process.execPath, [opts.bin ?? bin, ...args], {
    input: opts.input,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 30,
  });
}

export function tempDir(prefix = "llmzip-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Runs the built CLI without blocking this process's event loop (needed when
 * the test itself serves something the CLI talks to, e.g. a loopback HTTP server).
 */
export function llmzipAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}
