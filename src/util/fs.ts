/**
 * File-system helpers with no policy: reading an input whole, writing a file
 * atomically, and the one-line text of an fs error. Errors are FileError;
 * callers that own a different error kind wrap them.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FileError } from "../errors.js";

/** A one-line reason for an fs error, in words rather than errno codes. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "no space left on device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EISDIR":
      return "is a directory";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a folder in the path is not a folder";
    case "EPIPE":
      return "the reading end of the pipe was closed";
    case "EFBIG":
      return "file too large for the file system or the process's size limit";
    default:
      return (e as Error)?.message?.split("\n")[0] ?? String(e);
  }
}

/** Reads a whole input file, with a one-line error for the usual mistakes. */
export function readInput(file: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new FileError(`${file}: ${describeFsError(e)}`);
  }
  if (st.isDirectory()) throw new FileError(`${file}: is a directory`);
  // A device (/dev/zero, a terminal) never ends; pipes (`<(cmd)`) do and are read like stdin.
  if (!st.isFile() && !st.isFIFO()) throw new FileError(`${file}: not a regular file`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new FileError(`${file}: ${describeFsError(e)}`);
  }
}

/** Temporary files this process has open, removed on failure and on signals. */
const pendingTemps = new Set<string>();

/** Removes a file; a failure to clean up must not hide the error that led here. */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* best effort */
  }
}

/** Removes every temporary file a {@link writeAtomic} of this process has not finished (signal handlers call this). */
export function removePendingTemps(): void {
  for (const t of pendingTemps) removeQuietly(t);
  pendingTemps.clear();
}

/**
 * Writes `data` to `target` atomically: a temporary file in the same folder,
 * fsync'd, then renamed over the target. A failure or a signal leaves
 * nothing behind, and a concurrent writer can only ever see a complete file.
 * Without `force`, an existing target is an error, checked atomically.
 */
export function writeAtomic(target: string, data: Uint8Array | string, opts: { force: boolean; mode?: number }): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const dir = path.dirname(path.resolve(target));
  if (!opts.force && fs.existsSync(target)) throw new FileError(`${target}: already exists (use -f to overwrite)`);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  pendingTemps.add(tmp);
  try {
    const fd = fs.openSync(tmp, "wx", opts.mode ?? 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (opts.force) {
      fs.renameSync(tmp, target);
    } else {
      // link() refuses an existing target atomically, so two runs racing for
      // the same name cannot overwrite each other's complete file.
      try {
        fs.linkSync(tmp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new FileError(`${target}: already exists (use -f to overwrite)`);
        throw e;
      }
      removeQuietly(tmp);
    }
  } catch (e) {
    removeQuietly(tmp);
    if (e instanceof FileError) throw e;
    throw new FileError(`${target}: cannot write: ${describeFsError(e)}`, { cause: e });
  } finally {
    pendingTemps.delete(tmp);
  }
}

/** True when two paths name the same file (also through links). */
export function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Size of a regular file, or undefined when there is none at that path. */
export function fileSize(file: string): number | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Appends text to a file other programs also write to (a CI's job summary),
 * creating it if needed; not atomic, since appending is the file's contract.
 */
export function appendText(target: string, text: string): void {
  try {
    fs.appendFileSync(target, text, "utf8");
  } catch (e) {
    throw new FileError(`${target}: cannot append: ${describeFsError(e)}`, { cause: e });
  }
}
