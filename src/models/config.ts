import { ModelError } from "../errors.js";
import { isRecord, readJsonFile, writeJsonFile } from "./json-store.js";
import type { StorePaths } from "./paths.js";

/** llmzip's user settings (LLMZIP_HOME/config.json). */
export interface LlmzipConfig {
  /** Default model for compress: a path, a registered or catalog name, or an hf: URI. */
  model?: string;
}

export function readConfig(paths: StorePaths): LlmzipConfig {
  const raw = readJsonFile(paths.config);
  if (raw === undefined) return {};
  if (!isRecord(raw)) throw new ModelError(`${paths.config} must hold a JSON object`);
  if (raw.model !== undefined && (typeof raw.model !== "string" || !raw.model)) throw new ModelError(`${paths.config}: "model" must be a non-empty string`);
  return { model: raw.model as string | undefined };
}

/** Updates settings, keeping keys this version does not know. */
export function updateConfig(paths: StorePaths, patch: LlmzipConfig): void {
  const raw = readJsonFile(paths.config);
  const base = isRecord(raw) ? raw : {};
  const next: Record<string, unknown> = { ...base, ...patch };
  for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
  writeJsonFile(paths.config, next);
}
