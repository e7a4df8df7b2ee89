/**
 * LoRA adapter files: where they are found, how the archive names them, and
 * how an archive's adapter sets are matched to files again on decompress.
 * An adapter is identified by its fingerprint (size + sha256), never by its
 * name or path, and it is applied with exactly the scale the archive records.
 */
import fs from "node:fs";
import path from "node:path";
import type { AdapterRef } from "../container/format.js";
import { FileError, MismatchError, ModelError } from "../errors.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { groupDigits, hex, shortHex } from "../util/bytes.js";
import type { AdapterFile, AdapterSpec } from "./options.js";

export type { AdapterFile } from "./options.js";

/** Folders searched for adapters when none are given: `$LLMZIP_ADAPTERS`, separated like PATH. */
export const ADAPTERS_ENV = "LLMZIP_ADAPTERS";

/** The adapter folders named by `$LLMZIP_ADAPTERS` (none when unset). */
export function adapterDirsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[ADAPTERS_ENV] ?? "").split(path.delimiter).filter((d) => d.length > 0);
}

/** The `.gguf` files directly inside the folders, each folder sorted by name (so choices are reproducible). */
export function listAdapterFiles(dirs: string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      throw new FileError(`adapters folder not found or not readable: ${dir}`);
    }
    for (const name of names.filter((n) => n.toLowerCase().endsWith(".gguf")).sort()) {
      const file = path.join(dir, name);
      if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) files.push(file);
    }
  }
  return files;
}

/** Fails with a one-line error when an adapter file is missing, before any model is loaded. */
export function checkAdapterFilesExist(specs: { path: string }[]): void {
  for (const a of specs) {
    const st = fs.statSync(a.path, { throwIfNoEntry: false });
    if (!st) throw new ModelError(`adapter file not found: ${a.path}`);
    if (!st.isFile()) throw new ModelError(`adapter path is not a file: ${a.path}`);
  }
}

/** How the archive header records an adapter: file name, fingerprint and scale. */
export async function adapterRef(spec: AdapterSpec): Promise<AdapterRef> {
  const fp = await fingerprintFile(spec.path);
  return { name: path.basename(spec.path), size: fp.size, sha256: fp.sha256, scale: spec.scale };
}

/** A short human name for an adapter set: `none`, or `a.gguf x0.5 + b.gguf`. */
export function describeAdapterSet(set: { path?: string; name?: string; scale: number }[]): string {
  if (set.length === 0) return "none";
  return set.map((a) => `${a.name ?? path.basename(a.path ?? "?")}${a.scale === 1 ? "" : ` x${a.scale}`}`).join(" + ");
}

interface KnownFile {
  path: string;
  /** Scales the user asked for with this file; empty means "whatever the archive says". */
  scales: number[];
  given: boolean;
  used: boolean;
}

/**
 * Matches every adapter of the archive's sets to a file: first among the
 * files given, then among the `.gguf` files in `dirs` that have the right
 * size. Throws a MismatchError naming the adapter when one is missing, when
 * a given file with its name is a different adapter, or when the user gave
 * a scale other than the archive's. Returns the sets as files and scales,
 * and warnings for given files the archive does not use.
 */
export async function resolveAdapterSets(
  sets: AdapterRef[][],
  given: (string | AdapterFile)[] = [],
  dirs: string[] = [],
): Promise<{ sets: AdapterSpec[][]; unused: string[] }> {
  const files = given.map((g) => (typeof g === "string" ? { path: g } : g));
  const byHash = new Map<string, KnownFile>();
  const givenByName = new Map<string, { path: string; sha256: Uint8Array }>();
  for (const f of files) {
    const fp = await fingerprintFile(f.path).catch(() => {
      throw new ModelError(`adapter file not found: ${f.path}`);
    });
    const key = hex(fp.sha256);
    const known = byHash.get(key) ?? { path: f.path, scales: [], given: true, used: false };
    if (f.scale !== undefined) known.scales.push(f.scale);
    byHash.set(key, known);
    givenByName.set(path.basename(f.path), { path: f.path, sha256: fp.sha256 });
  }

  const needed = sets.flat();
  const missing = () => needed.filter((a) => !byHash.has(hex(a.sha256)));
  if (missing().length > 0 && dirs.length > 0) {
    const sizes = new Set(missing().map((a) => a.size));
    for (const file of listAdapterFiles(dirs)) {
      if (!sizes.has(fs.statSync(file).size)) continue;
      const key = hex((await fingerprintFile(file)).sha256);
      if (!byHash.has(key)) byHash.set(key, { path: file, scales: [], given: false, used: false });
    }
  }

  const resolved = sets.map((set) =>
    set.map((a): AdapterSpec => {
      const known = byHash.get(hex(a.sha256));
      if (!known) throw missingAdapter(a, files, givenByName, dirs);
      if (known.scales.length > 0 && !known.scales.includes(a.scale)) {
        throw new MismatchError(
          `adapter ${known.path} was applied with scale ${a.scale} when this archive was made, not ${known.scales.join(" or ")}; ` +
            `pass it as --adapter ${known.path}:${a.scale} or without a scale`,
        );
      }
      known.used = true;
      return { path: known.path, scale: a.scale };
    }),
  );
  const unused = [...byHash.values()].filter((k) => k.given && !k.used).map((k) => k.path);
  return { sets: resolved, unused };
}

function missingAdapter(a: AdapterRef, files: AdapterFile[], givenByName: Map<string, { path: string; sha256: Uint8Array }>, dirs: string[]): MismatchError {
  const want = `adapter ${a.name} (${groupDigits(a.size)} bytes, sha256 ${shortHex(a.sha256)}, scale ${a.scale})`;
  const sameName = givenByName.get(a.name);
  if (sameName) {
    return new MismatchError(`wrong adapter: ${sameName.path} has sha256 ${shortHex(sameName.sha256)}, but the archive was made with ${want}`);
  }
  const where = dirs.length > 0 ? ` (not found in ${dirs.join(", ")} either)` : "";
  if (files.length > 0) {
    return new MismatchError(`wrong adapter: the archive needs ${want}, which is none of the adapters given${where}; pass it with --adapter PATH or --adapters-dir DIR`);
  }
  return new MismatchError(`this archive needs ${want}${where}; pass it with --adapter PATH or --adapters-dir DIR (or set ${ADAPTERS_ENV})`);
}
