import fs from "node:fs";
import path from "node:path";
import { ModelError } from "../errors.js";
import { formatApproxBytes } from "../util/bytes.js";
import { findCatalogEntry, packagedFile, type CatalogEntry, type PackagedEntry } from "./catalog.js";
import { fingerprintFileSync } from "./fingerprint.js";
import { readConfig } from "./config.js";
import { isHubUri, isUrl, remoteFile } from "./hub.js";
import { findRegistered } from "./registry.js";
import { fileSize } from "../util/fs.js";
import { localModels, storeContext, type StoreContext, type StoreOptions } from "./store.js";

/** Which step of the resolution order chose the model. */
export type ModelChoice = "flag" | "env" | "config" | "default";

export interface ResolvedModel {
  /** Absolute path of the GGUF file. */
  path: string;
  /** What the user wrote (or the catalog name of the default). */
  spec: string;
  via: ModelChoice;
}

export interface ResolveOptions extends StoreOptions {
  /** -m PATH|NAME|hf:URI, when given. */
  flag?: string;
}

const isFile = (p: string) => fileSize(p) !== undefined;

/** Specs that can only mean a file: they contain a path separator, start with a dot or end in .gguf. */
function looksLikePath(spec: string): boolean {
  return spec.includes("/") || spec.includes(path.sep) || spec.startsWith(".") || /\.gguf$/i.test(spec);
}

/** Local file of a catalog entry, or undefined when it is not on this machine. */
export function catalogEntryFile(entry: CatalogEntry, ctx: StoreContext): string | undefined {
  const file = entry.kind === "hub" ? remoteFile(entry.uri, ctx.paths.cache, ctx.env).cachePath : packagedFile(entry, ctx.packageRoot);
  return isFile(file) ? file : undefined;
}

/**
 * The file of a shipped entry, checked against the catalog's sha256: a file
 * that differs (a Git LFS pointer, a half-copied install, a model retrained
 * without updating the catalog) would write archives that no other install
 * of this version can decompress, so it is refused instead of used.
 */
export function verifiedPackagedFile(entry: PackagedEntry, file: string): string {
  const got = fingerprintFileSync(file).sha256.toString("hex");
  if (got !== entry.sha256) {
    throw new ModelError(`the shipped model ${entry.file} is not the one this llmzip was released with (sha256 ${got.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…): reinstall llmzip, or pass -m PATH`);
  }
  return file;
}

function notDownloaded(entry: CatalogEntry, spec: string): ModelError {
  if (entry.kind === "package") return new ModelError(`model ${spec} ships with llmzip as ${entry.file}, which is missing: reinstall llmzip`);
  return new ModelError(`model ${spec} is not downloaded yet: run 'llmzip models pull ${entry.name}' (about ${formatApproxBytes(entry.approxBytes)})`);
}

/**
 * Turns what the user wrote after -m into a local file: a path, a
 * registered name, a catalog name (once pulled), or an hf: URI / URL (once
 * pulled). Never downloads; the errors say what to run instead.
 */
export function resolveModelSpec(spec: string, opts: StoreOptions = {}): string {
  const ctx = storeContext(opts);
  if (!spec) throw new ModelError("empty model name");
  if (isHubUri(spec) || isUrl(spec)) {
    const file = remoteFile(spec, ctx.paths.cache, ctx.env).cachePath;
    if (isFile(file)) return file;
    throw new ModelError(`${spec} is not downloaded yet: run 'llmzip models pull ${spec}'`);
  }
  if (looksLikePath(spec)) {
    const abs = path.resolve(spec);
    if (!fs.existsSync(abs)) throw new ModelError(`model file not found: ${spec}`);
    return abs;
  }
  const registered = findRegistered(ctx.paths, spec);
  if (registered) {
    if (!isFile(registered.path)) {
      throw new ModelError(`registered model ${registered.name} points at ${registered.path}, which no longer exists: add it again, or run 'llmzip models rm ${registered.name}'`);
    }
    return registered.path;
  }
  const entry = findCatalogEntry(spec, ctx.catalog);
  if (entry) {
    const file = catalogEntryFile(entry, ctx);
    if (file) return entry.kind === "package" ? verifiedPackagedFile(entry, file) : file;
    if (isFile(spec)) return path.resolve(spec);
    throw notDownloaded(entry, spec);
  }
  if (isFile(spec)) return path.resolve(spec);
  throw new ModelError(`unknown model '${spec}': not a file, a registered name ('llmzip models list') or a catalog name ('llmzip models list --catalog')`);
}

/**
 * The catalog's default: the first recommended entry present here, else
 * undefined. A recommended model that ships with llmzip must be here (and
 * intact): its absence is a broken install, reported as such rather than
 * passed over for some other model.
 */
export function defaultCatalogModel(ctx: StoreContext): { entry: CatalogEntry; file: string } | undefined {
  for (const entry of ctx.catalog) {
    if (!entry.recommended) continue;
    const file = catalogEntryFile(entry, ctx);
    if (entry.kind === "package") {
      if (!file) throw notDownloaded(entry, entry.name);
      return { entry, file: verifiedPackagedFile(entry, file) };
    }
    if (file) return { entry, file };
  }
  return undefined;
}

/** The one-line "how to get a model" hint for when nothing is configured. */
export function noModelHint(ctx: StoreContext): string {
  const here = localModels(ctx).filter((m) => m.size >= 0).map((m) => m.name);
  if (here.length > 0) {
    const names = here.length > 3 ? `${here.slice(0, 3).join(", ")}, ...` : here.join(", ");
    return `no default model: pass -m NAME (here: ${names}), or set one with 'llmzip models default NAME'`;
  }
  const first = ctx.catalog.find((e) => e.recommended && e.kind === "hub");
  const pull = first ? `run 'llmzip models pull ${first.name}' once (about ${formatApproxBytes(first.approxBytes)}), or ` : "";
  return `no model configured: ${pull}pass -m PATH to a GGUF model (or set LLMZIP_MODEL)`;
}

/**
 * The model compress uses: `-m`, else $LLMZIP_MODEL, else the config file's
 * `model`, else the catalog's recommended default if it is on this machine.
 * With none of these, a ModelError whose message says how to get a model.
 */
export function resolveModel(opts: ResolveOptions = {}): ResolvedModel {
  const ctx = storeContext(opts);
  const steps: [ModelChoice, string | undefined][] = [
    ["flag", opts.flag],
    ["env", ctx.env.LLMZIP_MODEL || undefined],
    ["config", readConfig(ctx.paths).model],
  ];
  for (const [via, spec] of steps) {
    if (spec !== undefined) return { path: resolveModelSpec(spec, { store: ctx }), spec, via };
  }
  const def = defaultCatalogModel(ctx);
  if (def) return { path: def.file, spec: def.entry.name, via: "default" };
  throw new ModelError(noModelHint(ctx));
}
