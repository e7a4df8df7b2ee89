import fs from "node:fs";
import path from "node:path";
import { describeFsError } from "../util/fs.js";
import { FileError, UsageError } from "../errors.js";

/** One file to benchmark: its label and where its bytes come from. */
export interface BenchInput {
  /** Label in reports. */
  name: string;
  /** Read when the file's turn comes (so that big suites are not all held in memory). */
  path?: string;
  /** Bytes given directly (library use); wins over `path`. */
  data?: Uint8Array;
}

/** Regular files under `dir`, recursively, in name order; dot files and folders are skipped. */
function walk(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new FileError(`${dir}: ${describeFsError(e)}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const full = path.join(dir, e.name);
    const st = fs.statSync(full, { throwIfNoEntry: false });
    if (st?.isDirectory()) walk(full, out);
    else if (st?.isFile()) out.push(full);
  }
}

/**
 * Labels for resolved paths: the fewest trailing path components that tell
 * them apart (usually the file name; `calgary/paper1` when two folders have
 * a paper1).
 */
export function shortLabels(files: string[]): string[] {
  const parts = files.map((f) => f.split(path.sep).filter(Boolean));
  const depth = parts.map(() => 1);
  for (;;) {
    const labels = parts.map((p, i) => p.slice(-(depth[i] ?? 1)).join("/"));
    const seen = new Map<string, number[]>();
    labels.forEach((l, i) => seen.set(l, [...(seen.get(l) ?? []), i]));
    let grew = false;
    for (const same of seen.values()) {
      if (same.length < 2) continue;
      for (const i of same) {
        if ((depth[i] ?? 1) < (parts[i]?.length ?? 0)) {
          depth[i] = (depth[i] ?? 1) + 1;
          grew = true;
        }
      }
    }
    if (!grew) return labels;
  }
}

/**
 * Expands FILE and DIR arguments into the files to benchmark, labelled by
 * {@link shortLabels}. A file named twice is benchmarked once.
 */
export function expandInputs(args: string[]): BenchInput[] {
  if (args.length === 0) throw new UsageError("give the files or folders to benchmark");
  const files: string[] = [];
  for (const arg of args) {
    const st = fs.statSync(arg, { throwIfNoEntry: false });
    if (!st) throw new FileError(`${arg}: no such file or directory`);
    if (st.isDirectory()) {
      const before = files.length;
      walk(arg, files);
      if (files.length === before) throw new FileError(`${arg}: no files in this folder`);
    } else files.push(arg);
  }
  const unique = [...new Map(files.map((f) => [path.resolve(f), f])).entries()];
  const labels = shortLabels(unique.map(([abs]) => abs));
  return unique.map(([, given], i) => ({ name: labels[i] ?? given, path: given }));
}

/** The bytes of an input. */
export function loadInput(input: BenchInput): Uint8Array {
  if (input.data) return input.data;
  if (!input.path) throw new UsageError(`${input.name}: neither data nor a path given`);
  try {
    return fs.readFileSync(input.path);
  } catch (e) {
    throw new FileError(`${input.path}: ${describeFsError(e)}`);
  }
}
