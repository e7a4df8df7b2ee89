import { spawnSync } from "node:child_process";
import path from "node:path";
import { it } from "vitest";
import { repoRoot } from "./shared.js";

/** The interpreter the training tool is documented for: Debian's, where python3-torch installs. */
export const PYTHON = process.env.LLMZIP_PYTHON ?? "/usr/bin/python3";
export const TORCH_INSTALL = "apt-get install -y python3-torch python3-numpy";

/** Why the training tests cannot run here, or undefined when they can. */
export function torchMissing(): string | undefined {
  const r = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found (${TORCH_INSTALL})`;
  if (r.status !== 0) return `${PYTHON} lacks torch/numpy (${TORCH_INSTALL})`;
  return undefined;
}

/**
 * Whether a training suite must skip: true when torch is missing, with a note
 * saying what to install. With LLMZIP_REQUIRE_TORCH=1 (CI) a missing torch is a
 * failing test instead, so that CI cannot pass by skipping.
 */
export function skipWithoutTorch(suite: string): boolean {
  const missing = torchMissing();
  if (!missing) return false;
  if (process.env.LLMZIP_REQUIRE_TORCH === "1") {
    it(`${suite}: torch is installed (LLMZIP_REQUIRE_TORCH=1)`, () => {
      throw new Error(missing);
    });
  } else {
    console.warn(`${suite} skipped: ${missing}`);
  }
  return true;
}

/** Runs `python3 -m llmzip_train ...` from tools/train; throws with its output on failure. */
export function trainTool(args: string[]): string {
  const r = spawnSync(PYTHON, ["-m", "llmzip_train", ...args], {
    cwd: path.join(repoRoot, "tools", "train"),
    encoding: "utf8",
    env: { ...process.env, NODE: process.execPath, LLMZIP_TRAIN_THREADS: "1" },
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`llmzip_train ${args[0]} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The JSON lines of a tool's output. */
export function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
