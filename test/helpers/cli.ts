import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./shared.js";

export const bin = path.join(repoRoot, "bin", "llmzip.js");

/** Runs the built CLI as a real process. */
export function llmzip(args: string[], opts: { input?: Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<Buffer> {
  return spawnSync(process.execPath, [bin, ...args], {
    input: opts.input,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 30,
  });
}

export function tempDir(prefix = "llmzip-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
