import path from "node:path";
import { llmzipHome } from "../util/home.js";

/** Where llmzip keeps model state; every function takes the home folder so tests (and callers) can point elsewhere. */
export interface StorePaths {
  home: string;
  /** Downloaded models (pulls land here; `models rm` deletes files only below this folder). */
  cache: string;
  /** Registered models: name -> path and fingerprint. */
  registry: string;
  /** User settings, e.g. the default model. */
  config: string;
}

export function storePaths(home: string = llmzipHome()): StorePaths {
  return {
    home,
    cache: path.join(home, "models"),
    registry: path.join(home, "models.json"),
    config: path.join(home, "config.json"),
  };
}

/** True when `file` lies inside `folder` (after resolving both; no symlink games). */
export function isInside(file: string, folder: string): boolean {
  const rel = path.relative(path.resolve(folder), path.resolve(file));
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}
