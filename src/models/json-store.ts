import fs from "node:fs";
import path from "node:path";
import { ModelError } from "../errors.js";
import { describeFsError, writeAtomic } from "../util/fs.js";

/**
 * Reads a small JSON state file. A missing file is `undefined`; an
 * unreadable one is an error naming the file, never silently emptied
 * (that would forget the user's registrations).
 */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ModelError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ModelError(`${file} is not valid JSON; fix or remove it`);
  }
}

/** Writes a JSON state file atomically (temporary file in the same folder, then rename). */
export function writeJsonFile(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomic(file, `${JSON.stringify(value, null, 2)}\n`, { force: true });
  } catch (e) {
    throw new ModelError(`cannot write ${file}: ${describeFsError((e as Error).cause ?? e)}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
