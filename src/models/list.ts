import { LlmzipError } from "../errors.js";
import { fingerprintFile } from "./fingerprint.js";
import { readGgufInfo } from "./gguf.js";
import { catalogEntryFile } from "./resolve.js";
import { localModels, storeContext, type LocalModel, type StoreOptions } from "./store.js";

/** One row of `llmzip models list`. */
export interface ModelListing extends LocalModel {
  /** sha256, hex (absent when the file is missing or unreadable). */
  sha256?: string;
  architecture?: string;
  /** `general.name` inside the file. */
  modelName?: string;
  parameters?: number;
  vocabSize?: number;
  contextLength?: number;
  /** llama.cpp's ftype number (7 = Q8_0, 15 = Q4_K_M, ...). */
  fileType?: number;
  /** Why the file could not be described (missing, not a GGUF...). */
  problem?: string;
}

/** One row of `llmzip models list --catalog`. */
export interface CatalogListing {
  name: string;
  description: string;
  approxBytes: number;
  parameters: string;
  license: string;
  recommended: boolean;
  /** hf: URI, or the packaged file's path relative to the package. */
  source: string;
  sha256?: string;
  pin?: string;
  /** Local file when downloaded (or shipped). */
  path?: string;
}

/**
 * Describes every local model: fingerprint (cached) and the GGUF header's
 * architecture, size and vocabulary, without loading any model.
 */
export async function listModels(opts: StoreOptions = {}): Promise<ModelListing[]> {
  const ctx = storeContext(opts);
  const out: ModelListing[] = [];
  for (const m of localModels(ctx)) {
    const row: ModelListing = { ...m };
    if (m.size < 0) {
      row.problem = "file is missing";
    } else {
      try {
        const info = readGgufInfo(m.path);
        Object.assign(row, {
          architecture: info.architecture,
          modelName: info.name,
          parameters: info.parameters,
          vocabSize: info.vocabSize,
          contextLength: info.contextLength,
          fileType: info.fileType,
        });
        row.sha256 = (await fingerprintFile(m.path)).sha256.toString("hex");
      } catch (e) {
        row.problem = e instanceof LlmzipError ? e.message : String((e as Error)?.message ?? e);
      }
    }
    out.push(row);
  }
  return out;
}

export function listCatalog(opts: StoreOptions = {}): CatalogListing[] {
  const ctx = storeContext(opts);
  return ctx.catalog.map((e) => ({
    name: e.name,
    description: e.description,
    approxBytes: e.approxBytes,
    parameters: e.parameters,
    license: e.license,
    recommended: Boolean(e.recommended),
    source: e.kind === "hub" ? e.uri : e.file,
    sha256: e.sha256,
    pin: e.kind === "hub" ? e.pin : "shipped with llmzip",
    path: catalogEntryFile(e, ctx),
  }));
}
