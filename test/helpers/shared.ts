import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (test files import this helper, so this is stable). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The shared data folder (models, corpora) for tests only: `$LLMZIP_SHARED`,
 * else `../shared` beside the checkout. Product code never looks here.
 */
export function sharedDir(): string {
  return process.env.LLMZIP_SHARED ? path.resolve(process.env.LLMZIP_SHARED) : path.resolve(repoRoot, "..", "shared");
}

export function modelPath(name: string): string {
  const p = path.join(sharedDir(), "models", name);
  if (!fs.existsSync(p)) throw new Error(`test model missing: ${p} (set LLMZIP_SHARED)`);
  return p;
}

export function corpusPath(rel: string): string {
  const p = path.join(sharedDir(), "corpora", rel);
  if (!fs.existsSync(p)) throw new Error(`test corpus file missing: ${p} (set LLMZIP_SHARED)`);
  return p;
}

/** A shard of the training text (../shared/train), for the training tool's tests. */
export function trainPath(name: string): string {
  const p = path.join(sharedDir(), "train", name);
  if (!fs.existsSync(p)) throw new Error(`training text missing: ${p} (set LLMZIP_SHARED)`);
  return p;
}
