import path from "node:path";
import { ModelError, UsageError } from "../errors.js";
import { isRecord, readJsonFile, writeJsonFile } from "./json-store.js";
import type { StorePaths } from "./paths.js";

/** A model the user registered (`models add`) or pulled: a name for a local file and its fingerprint. */
export interface RegisteredModel {
  name: string;
  /** Absolute path of the GGUF file. */
  path: string;
  size: number;
  /** sha256 of the file, hex, as of registration (lookups re-check it through the fingerprint cache). */
  sha256: string;
  /** Where it came from: the hf: URI or URL it was pulled from, or "local". */
  source: string;
  /** ISO time of registration. */
  added: string;
}

const REGISTRY_VERSION = 1;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Model names are lowercase, without slashes or colons, and do not end in .gguf, so that they never read as paths or URIs. */
export function checkModelName(name: string): string {
  const n = name.toLowerCase();
  if (!NAME.test(n) || n.endsWith(".gguf")) {
    throw new UsageError(`bad model name '${name}': use letters, digits, '.', '_' and '-' (at most 64, not ending in .gguf)`);
  }
  return n;
}

/** A registry name derived from a file name: `SmolLM2-135M.Q8_0.gguf` -> `smollm2-135m.q8_0`. */
export function nameFromPath(file: string): string {
  const base = path
    .basename(file)
    .replace(/\.gguf$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 64);
  return base || "model";
}

function parseEntry(name: string, v: unknown): RegisteredModel | undefined {
  if (!isRecord(v)) return undefined;
  const { path: p, size, sha256, source, added } = v;
  if (typeof p !== "string" || typeof size !== "number" || typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  return { name, path: p, size, sha256, source: typeof source === "string" ? source : "local", added: typeof added === "string" ? added : "" };
}

/** All registered models, sorted by name. */
export function readRegistry(paths: StorePaths): RegisteredModel[] {
  const raw = readJsonFile(paths.registry);
  if (raw === undefined) return [];
  if (!isRecord(raw) || !isRecord(raw.models)) throw new ModelError(`${paths.registry} is not an llmzip model registry; fix or remove it`);
  if (raw.version !== REGISTRY_VERSION) throw new ModelError(`${paths.registry} has registry version ${String(raw.version)}, which this llmzip does not know`);
  const out: RegisteredModel[] = [];
  for (const [name, v] of Object.entries(raw.models)) {
    const entry = parseEntry(name, v);
    if (entry) out.push(entry);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function writeRegistry(paths: StorePaths, models: RegisteredModel[]): void {
  const byName: Record<string, Omit<RegisteredModel, "name">> = {};
  for (const { name, ...rest } of [...models].sort((a, b) => a.name.localeCompare(b.name))) byName[name] = rest;
  writeJsonFile(paths.registry, { version: REGISTRY_VERSION, models: byName });
}

export function findRegistered(paths: StorePaths, name: string): RegisteredModel | undefined {
  const n = name.toLowerCase();
  return readRegistry(paths).find((m) => m.name === n);
}

/**
 * Adds or refreshes a registration. A name already taken by another file is
 * an error (the user picks another name or removes the old one first).
 */
export function putRegistered(paths: StorePaths, entry: RegisteredModel): void {
  const models = readRegistry(paths);
  const old = models.find((m) => m.name === entry.name);
  if (old && path.resolve(old.path) !== path.resolve(entry.path)) {
    throw new ModelError(`the name '${entry.name}' is already registered for ${old.path}; choose another with --name, or run 'llmzip models rm ${entry.name}' first`);
  }
  writeRegistry(paths, [...models.filter((m) => m.name !== entry.name), entry]);
}

/** Removes a registration; returns what was removed. */
export function deleteRegistered(paths: StorePaths, name: string): RegisteredModel | undefined {
  const models = readRegistry(paths);
  const n = name.toLowerCase();
  const hit = models.find((m) => m.name === n);
  if (hit) writeRegistry(paths, models.filter((m) => m.name !== n));
  return hit;
}
