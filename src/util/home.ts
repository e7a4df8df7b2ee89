import os from "node:os";
import path from "node:path";

/**
 * llmzip's own state folder (model registry, fingerprint cache, downloads):
 * `$LLMZIP_HOME`, else `$XDG_DATA_HOME/llmzip`, else `~/.llmzip`.
 */
export function llmzipHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LLMZIP_HOME) return path.resolve(env.LLMZIP_HOME);
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, "llmzip");
  return path.join(os.homedir(), ".llmzip");
}
