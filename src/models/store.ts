import fs from "node:fs";
import path from "node:path";
import { fileSize } from "../util/fs.js";
import { llmzipHome } from "../util/home.js";
import { packageRoot } from "../util/package.js";
import { CATALOG, packagedFile, type CatalogEntry } from "./catalog.js";
import { remoteFile } from "./hub.js";
import { storePaths, type StorePaths } from "./paths.js";
import { nameFromPath, readRegistry } from "./registry.js";

/** Where model functions look; every field has a default, tests point them at temporary folders. */
export interface StoreOptions {
  /** llmzip's state folder (default: $LLMZIP_HOME, $XDG_DATA_HOME/llmzip or ~/.llmzip). */
  home?: string;
  catalog?: readonly CatalogEntry[];
  /** Root that packaged catalog entries are relative to (default: this package). */
  packageRoot?: string;
  env?: NodeJS.ProcessEnv;
  /** A store built already (a {@link ModelStore}'s): wins over the fields above, so nothing is rebuilt. */
  store?: StoreContext;
}

/** Where model functions look, resolved once per command. */
export interface StoreContext {
  paths: StorePaths;
  catalog: readonly CatalogEntry[];
  packageRoot: string;
  env: NodeJS.ProcessEnv;
}

/** The store the options name: `opts.store` when given, else one built from the fields and their defaults. */
export function storeContext(opts: StoreOptions = {}): StoreContext {
  if (opts.store) return opts.store;
  const env = opts.env ?? process.env;
  return {
    paths: storePaths(opts.home ?? llmzipHome(env)),
    catalog: opts.catalog ?? CATALOG,
    packageRoot: opts.packageRoot ?? packageRoot,
    env,
  };
}

/** How a local model is known to llmzip ("file": named directly, e.g. by $LLMZIP_MODEL). */
export type ModelOrigin = "registered" | "cache" | "package" | "file";

export interface LocalModel {
  name: string;
  /** Absolute path. */
  path: string;
  size: number;
  origin: ModelOrigin;
  /** The catalog entry this file is, when it is one. */
  catalog?: string;
  /** hf: URI or URL it was pulled from, or "local". */
  source?: string;
}

/** GGUF files below the cache folder (finished downloads only: no .part files). */
export function cachedFiles(cacheDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(cacheDir, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.gguf$/i.test(n) && !path.basename(n).startsWith("."))
    .map((n) => path.join(cacheDir, n))
    .filter((f) => fileSize(f) !== undefined)
    .sort();
}

/** Cache path of each hub catalog entry, to recognise pulled catalog models. */
function catalogCachePaths(ctx: StoreContext): Map<string, CatalogEntry> {
  const out = new Map<string, CatalogEntry>();
  for (const e of ctx.catalog) {
    if (e.kind === "hub") out.set(path.resolve(remoteFile(e.uri, ctx.paths.cache, ctx.env).cachePath), e);
    else out.set(packagedFile(e, ctx.packageRoot), e);
  }
  return out;
}

/**
 * Every model file llmzip knows on this machine: registered ones (even if
 * their file has gone: size -1), cached downloads that are not registered,
 * and packaged catalog models that are present.
 */
export function localModels(ctx: StoreContext): LocalModel[] {
  const byPath = catalogCachePaths(ctx);
  const out: LocalModel[] = [];
  const seen = new Set<string>();
  for (const r of readRegistry(ctx.paths)) {
    const abs = path.resolve(r.path);
    seen.add(abs);
    out.push({ name: r.name, path: abs, size: fileSize(abs) ?? -1, origin: "registered", catalog: byPath.get(abs)?.name, source: r.source });
  }
  for (const f of cachedFiles(ctx.paths.cache)) {
    const abs = path.resolve(f);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const entry = byPath.get(abs);
    out.push({ name: entry?.name ?? nameFromPath(abs), path: abs, size: fileSize(abs) ?? -1, origin: "cache", catalog: entry?.name });
  }
  for (const e of ctx.catalog) {
    if (e.kind !== "package") continue;
    const abs = packagedFile(e, ctx.packageRoot);
    const size = fileSize(abs);
    if (size === undefined || seen.has(abs)) continue;
    seen.add(abs);
    out.push({ name: e.name, path: abs, size, origin: "package", catalog: e.name, source: "package" });
  }
  return out;
}
