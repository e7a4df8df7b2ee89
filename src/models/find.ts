import path from "node:path";
import type { ModelRef } from "../container/format.js";
import { ModelError } from "../errors.js";
import { formatMegabytes, hex } from "../util/bytes.js";
import { catalogEntryBySha256 } from "./catalog.js";
import { fingerprintFile } from "./fingerprint.js";
import { fileSize } from "../util/fs.js";
import { localModels, storeContext, type LocalModel, type StoreOptions } from "./store.js";

export interface FindOptions extends StoreOptions {
  /** Files to try first (e.g. $LLMZIP_MODEL or the configured default), in order. */
  preferred?: string[];
}

/**
 * Finds the local file whose sha256 and size are the archive's model's,
 * among preferred files, registered models, cached downloads and packaged
 * models. Only files of the right size are hashed, and hashes are cached, so
 * this costs a few stat calls once each candidate has been hashed once.
 */
export async function findModelByFingerprint(ref: Pick<ModelRef, "size" | "sha256">, opts: FindOptions = {}): Promise<LocalModel | undefined> {
  const ctx = storeContext(opts);
  const want = hex(ref.sha256);
  const candidates: LocalModel[] = [
    ...(opts.preferred ?? []).map((p): LocalModel => ({ name: path.basename(p), path: path.resolve(p), size: fileSize(p) ?? -1, origin: "file", source: "local" })),
    ...localModels(ctx),
  ];
  const tried = new Set<string>();
  for (const c of candidates) {
    if (tried.has(c.path)) continue;
    tried.add(c.path);
    if (fileSize(c.path) !== ref.size) continue;
    const fp = await fingerprintFile(c.path).catch(() => undefined);
    if (fp && hex(fp.sha256) === want) return c;
  }
  return undefined;
}

/**
 * The one-line error for an archive whose model is nowhere here: names the
 * model and says how to get it (the catalog entry with that checksum, if any).
 */
export function describeMissingModel(ref: ModelRef, opts: StoreOptions = {}): string {
  const sha = hex(ref.sha256);
  const entry = catalogEntryBySha256(sha, storeContext(opts).catalog);
  const needs = `this archive needs the model ${ref.name} (${formatMegabytes(ref.size)}, sha256 ${sha})`;
  if (entry?.kind === "package") return `${needs}, which ships with llmzip as ${entry.file} but is missing or damaged here: reinstall llmzip, or pass -m PATH to your copy`;
  const how = entry?.kind === "hub" ? `run 'llmzip models pull ${entry.name}', or pass -m PATH to your copy` : "register your copy with 'llmzip models add PATH', or pass -m PATH";
  return `${needs}, which is not registered or downloaded here: ${how}`;
}

/**
 * A `locateModel` callback for {@link decompress}: the matching local file,
 * or a {@link ModelError} naming the model the archive needs.
 */
export function modelLocator(opts: FindOptions = {}): (ref: ModelRef) => Promise<string> {
  const store = storeContext(opts);
  return async (ref) => {
    const hit = await findModelByFingerprint(ref, { preferred: opts.preferred, store });
    if (!hit) throw new ModelError(describeMissingModel(ref, { store }));
    return hit.path;
  };
}
