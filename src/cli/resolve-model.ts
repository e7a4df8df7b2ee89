import type { DecompressOptions } from "../codec/options.js";
import { readConfig } from "../models/config.js";
import { modelLocator } from "../models/find.js";
import { resolveModel, resolveModelSpec } from "../models/resolve.js";
import { storeContext } from "../models/store.js";

/**
 * The model for compress: -m, else $LLMZIP_MODEL, else the config file's
 * default, else the catalog's recommended model if it is here. With none, a
 * one-line hint says how to get one.
 */
export function modelForCompress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolveModel({ flag, env }).path;
}

/**
 * How decompress finds its model: exactly -m when given (checked by
 * fingerprint); otherwise by the archive's fingerprint, trying
 * $LLMZIP_MODEL and the configured default first, then every registered,
 * downloaded and shipped model.
 */
export function modelForDecompress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Pick<DecompressOptions, "model" | "locateModel"> {
  if (flag) return { model: resolveModelSpec(flag, { env }) };
  const preferred: string[] = [];
  for (const spec of [env.LLMZIP_MODEL, readConfig(storeContext({ env }).paths).model]) {
    if (!spec) continue;
    try {
      preferred.push(resolveModelSpec(spec, { env }));
    } catch {
      // A stale default must not stop the search: the archive may need another model anyway.
    }
  }
  return { locateModel: modelLocator({ env, preferred }) };
}
