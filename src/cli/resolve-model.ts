import { ModelError } from "../errors.js";

/**
 * The model for compress: -m, else $LLMZIP_MODEL. A one-line hint when there
 * is none, since nothing can be coded without one.
 */
export function modelForCompress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const model = flag ?? env.LLMZIP_MODEL;
  if (!model) throw new ModelError("no model given: pass -m PATH to a GGUF model, or set LLMZIP_MODEL");
  return model;
}

/** The model for decompress, if the user named one; the archive says which it must be. */
export function modelForDecompress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? env.LLMZIP_MODEL;
}
