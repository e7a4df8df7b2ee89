import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeAtomic } from "../util/fs.js";
import { llmzipHome } from "../util/home.js";

/** Identity of a model or adapter file: sha256 of its bytes, and its size. */
export interface FileFingerprint {
  sha256: Buffer;
  size: number;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  /** Also keyed on ctime: rewriting a file in place and restoring its mtime still changes ctime. */
  ctimeMs?: number;
  sha256: string;
}

function cachePath(): string {
  return path.join(llmzipHome(), "fingerprints.json");
}

function readCache(): Record<string, CacheEntry> {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(cachePath(), "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

function writeCache(cache: Record<string, CacheEntry>): void {
  // The cache only saves time; failing to write it must never fail a run.
  try {
    const file = cachePath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeAtomic(file, JSON.stringify(cache), { force: true });
  } catch {
    /* read-only home: recompute next time */
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const piece of fs.createReadStream(file, { highWaterMark: 1 << 22 })) hash.update(piece as Buffer);
  return hash.digest();
}

function entryFor(st: fs.Stats, sha256: Buffer): CacheEntry {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, sha256: sha256.toString("hex") };
}

/** The cached hash of `abs` when its size, mtime and ctime still match what was hashed. */
function cachedFingerprint(abs: string, st: fs.Stats): FileFingerprint | undefined {
  const hit = readCache()[abs];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs && /^[0-9a-f]{64}$/.test(hit.sha256)) {
    return { sha256: Buffer.from(hit.sha256, "hex"), size: st.size };
  }
  return undefined;
}

function storeFingerprint(abs: string, st: fs.Stats, sha256: Buffer): FileFingerprint {
  // Re-read the cache: another file may have been hashed meanwhile.
  const cache = readCache();
  cache[abs] = entryFor(st, sha256);
  writeCache(cache);
  return { sha256, size: st.size };
}

/**
 * Fingerprint of a GGUF file. Hashing a multi-gigabyte model takes seconds,
 * so results are cached by absolute path, size, mtime and ctime under LLMZIP_HOME.
 */
export async function fingerprintFile(file: string): Promise<FileFingerprint> {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  return cachedFingerprint(abs, st) ?? storeFingerprint(abs, st, await sha256File(abs));
}

/**
 * {@link fingerprintFile} without awaiting, for checks inside synchronous model
 * resolution; meant for small files (llmzip's shipped model), since a cache
 * miss hashes the whole file on this thread.
 */
export function fingerprintFileSync(file: string): FileFingerprint {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  return cachedFingerprint(abs, st) ?? storeFingerprint(abs, st, createHash("sha256").update(fs.readFileSync(abs)).digest());
}

/** Records a hash computed elsewhere (a download hashes while it writes), so the file is not read again. */
export function rememberFingerprint(file: string, sha256: Buffer): void {
  const abs = path.resolve(file);
  storeFingerprint(abs, fs.statSync(abs), sha256);
}

/** Drops a removed file from the cache. */
export function forgetFingerprint(file: string): void {
  const abs = path.resolve(file);
  const cache = readCache();
  if (!(abs in cache)) return;
  delete cache[abs];
  writeCache(cache);
}
