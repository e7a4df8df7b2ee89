import fs from "node:fs";
import path from "node:path";
import { ModelError } from "../errors.js";
import { readConfig, updateConfig } from "./config.js";
import { fingerprintFile, forgetFingerprint } from "./fingerprint.js";
import { readGgufInfo, type GgufInfo } from "./gguf.js";
import { isInside } from "./paths.js";
import { checkModelName, deleteRegistered, nameFromPath, putRegistered, type RegisteredModel } from "./registry.js";
import { localModels, storeContext, type LocalModel, type StoreOptions } from "./store.js";

export interface AddOptions extends StoreOptions {
  /** Registry name (default: the file name without .gguf, lowercased). */
  name?: string;
  /** Recorded as the model's origin (default "local"). */
  source?: string;
}

/** Checks that a file is a GGUF language model (not an adapter), reading only its header. */
export function checkModelFile(file: string): GgufInfo {
  const info = readGgufInfo(file);
  if (info.type === "adapter") throw new ModelError(`${file} is a LoRA adapter, not a model; pass it to compress with --adapter`);
  return info;
}

/**
 * Registers a local GGUF model under a name. Its fingerprint is computed
 * once here and cached by path, size, mtime and ctime; adding the same file
 * again refreshes the entry.
 */
export async function addModel(file: string, opts: AddOptions = {}): Promise<RegisteredModel & { info: GgufInfo }> {
  const ctx = storeContext(opts);
  const abs = path.resolve(file);
  const info = checkModelFile(abs);
  const name = checkModelName(opts.name ?? nameFromPath(abs));
  const fp = await fingerprintFile(abs);
  const entry: RegisteredModel = { name, path: abs, size: fp.size, sha256: fp.sha256.toString("hex"), source: opts.source ?? "local", added: new Date().toISOString() };
  putRegistered(ctx.paths, entry);
  return { ...entry, info };
}

export interface RemoveResult {
  name: string;
  path: string;
  /** True when the model was registered (the registration is gone now). */
  wasRegistered: boolean;
  /** True when the file was deleted: only files inside llmzip's cache are. */
  deletedFile: boolean;
  /** True when the config's default model was this one and has been cleared. */
  clearedDefault: boolean;
}

/** Removes a file from the cache, with what a pull may have left beside it. */
function deleteCachedFile(file: string): void {
  for (const f of [file, `${file}.part`, `${file}.part.json`]) fs.rmSync(f, { force: true });
  forgetFingerprint(file);
}

/**
 * Forgets a model: removes its registration, and deletes the file only when
 * it lives in llmzip's own cache (a user's file elsewhere is never deleted).
 */
export function removeModel(name: string, opts: StoreOptions = {}): RemoveResult {
  const ctx = storeContext(opts);
  const key = name.toLowerCase();
  const local: LocalModel | undefined = localModels(ctx).find((m) => m.name === key);
  if (!local) throw new ModelError(`no model named '${name}' here (see 'llmzip models list')`);
  if (local.origin === "package") throw new ModelError(`${local.name} ships with llmzip; there is nothing to remove`);
  const wasRegistered = local.origin === "registered";
  if (wasRegistered) deleteRegistered(ctx.paths, key);
  // Another name for the same cached file keeps it alive.
  const sharedWith = localModels(ctx).find((m) => m.origin === "registered" && m.path === local.path);
  const deletedFile = isInside(local.path, ctx.paths.cache) && !sharedWith;
  if (deletedFile) deleteCachedFile(local.path);
  let clearedDefault = false;
  if (readConfig(ctx.paths).model?.toLowerCase() === key) {
    updateConfig(ctx.paths, { model: undefined });
    clearedDefault = true;
  }
  return { name: local.name, path: local.path, wasRegistered, deletedFile, clearedDefault };
}
