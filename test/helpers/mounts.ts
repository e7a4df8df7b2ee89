import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { bin } from "./cli.js";

/**
 * A small tmpfs (needs root: a sandbox or CI container). Returns undefined
 * where mounting is not allowed, so that the caller can say why it skips.
 */
export function mountTmpfs(dir: string, opts: { sizeKiB: number; readOnly?: boolean }): { dir: string; unmount: () => void } | undefined {
  fs.mkdirSync(dir, { recursive: true });
  const options = [`size=${opts.sizeKiB}k`, ...(opts.readOnly ? ["ro"] : [])].join(",");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return {
    dir,
    unmount: () => {
      spawnSync("umount", [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the CLI as a child without blocking the test's event loop (for concurrent runs). */
export function llmzipAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; stdio?: ["pipe" | "ignore" | number, "pipe" | "ignore" | number, "pipe"] } = {}): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...opts.env }, stdio: opts.stdio ?? ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (status, signal) => resolve({ status, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Files in a folder that look like llmzip's temporary outputs. */
export function tempFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")).map((f) => path.join(dir, f));
}
