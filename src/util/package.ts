/**
 * Where this package is installed, and its dependencies: the one place that
 * knows that this file sits two folders below the package root (in src/ and
 * in dist/ alike).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (the folder holding package.json), from dist/ or src/. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Finds an installed package by walking up node_modules folders, as Node does. */
export function findPackageDir(name: string, from: string = packageRoot): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}
