import type { DecompressOptions } from "../codec/options.js";
import type { ModelStore } from "../models/model-store.js";

/**
 * The model for compress: -m, else $LLMZIP_MODEL, else the config file's
 * default, else the catalog's default: the model shipped with llmzip (a
 * one-line error when that file is missing or altered).
 */
export function modelForCompress(store: ModelStore, flag: string | undefined): string {
  return store.resolve(flag).path;
}

/**
 * How decompress finds its model: exactly -m when given (checked by
 * fingerprint); otherwise by the archive's fingerprint, trying
 * $LLMZIP_MODEL and the configured default first, then every registered,
 * downloaded and shipped model.
 */
export function modelForDecompress(store: ModelStore, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Pick<DecompressOptions, "model" | "locateModel"> {
  if (flag) return { model: store.resolveSpec(flag) };
  const preferred: string[] = [];
  for (const spec of [env.LLMZIP_MODEL, store.defaultSpec()]) {
    if (!spec) continue;
    try {
      preferred.push(store.resolveSpec(spec));
    } catch {
      // A stale default must not stop the search: the archive may need another model anyway.
    }
  }
  return { locateModel: store.locator(preferred) };
}
