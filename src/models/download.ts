import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { CancelledError, DownloadError } from "../errors.js";
import { VERSION } from "../version.js";
import { rememberFingerprint } from "./fingerprint.js";
import { hasGgufMagic } from "./gguf.js";

export interface DownloadProgress {
  /** Bytes of the file on disk so far (resumed bytes included). */
  done: number;
  /** Size of the whole file, when the server says. */
  total?: number;
  /** Bytes that were already there from an earlier, interrupted run. */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  /** Final path; the file appears there only complete (and checked when `sha256` is given). */
  dest: string;
  /** Expected sha256, hex. A mismatch removes the download and throws. */
  sha256?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Longest wait for a server's response headers, DNS and connect included (default 10 s). */
  connectTimeoutMs?: number;
  /** Longest silence in the middle of a body before the connection counts as dead (default 30 s). */
  idleTimeoutMs?: number;
  /** Automatic resumes after a connection drops mid-file (default 3). */
  retries?: number;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: Buffer;
  /** Bytes kept from an earlier interrupted run (0 for a fresh download). */
  resumedFrom: number;
  /** HTTP requests made (redirects not counted). */
  requests: number;
}

const MAX_REDIRECTS = 10;

/** 0.4 s, 10 s. */
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** A failure after which asking again (with a Range request) may well succeed. */
class Retryable extends DownloadError {}

interface PartMeta {
  url: string;
  etag?: string;
  total?: number;
}

function describeNetError(e: unknown, host: string): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return `cannot connect to ${host}: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${host} (offline, or no DNS?)`;
    case "ENETUNREACH":
    case "EHOSTUNREACH":
      return `cannot reach ${host}: network unreachable (offline?)`;
    case "ECONNRESET":
      return `${host} closed the connection`;
    case "CERT_HAS_EXPIRED":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return `TLS certificate of ${host} is not trusted (${code})`;
    default:
      return `${host}: ${(e as Error)?.message ?? String(e)}`;
  }
}

/** Holds DEST.lock while this process downloads DEST; a lock left by a dead process is taken over. */
function acquireLock(dest: string): () => void {
  const lock = `${dest}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new DownloadError(`cannot create ${lock}: ${(e as Error).message}`);
    }
    const pid = Number(fs.readFileSync(lock, "utf8").trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === "EPERM";
      }
    }
    if (alive) throw new DownloadError(`another llmzip (pid ${pid}) is downloading ${path.basename(dest)}; wait for it to finish (or remove ${lock} if it is gone)`);
    fs.rmSync(lock, { force: true });
  }
  throw new DownloadError(`cannot lock ${lock}`);
}

function readMeta(file: string): PartMeta | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(file, "utf8")) as PartMeta;
    return typeof m.url === "string" ? m : undefined;
  } catch {
    return undefined;
  }
}

async function hashPrefix(file: string, length: number, hash: Hash): Promise<void> {
  if (length === 0) return;
  for await (const piece of fs.createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1 << 22 })) hash.update(piece as Buffer);
}

/** Parses `Content-Range: bytes START-END/TOTAL`. */
function parseContentRange(value: string | undefined): { start: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? "");
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === "*" ? undefined : Number(m[3]) };
}

/** One download in progress: the .part file, its running hash and what the server said about it. */
class Transfer {
  readonly part: string;
  readonly metaFile: string;
  offset = 0;
  hash = createHash("sha256");
  meta: PartMeta;
  requests = 0;
  resumedFrom = 0;

  constructor(private readonly opts: DownloadOptions) {
    this.part = `${opts.dest}.part`;
    this.metaFile = `${opts.dest}.part.json`;
    this.meta = { url: opts.url };
  }

  /** Picks up a .part file left by an earlier run for the same URL. */
  async resume(): Promise<void> {
    const old = readMeta(this.metaFile);
    let size = 0;
    try {
      size = fs.statSync(this.part).size;
    } catch {
      size = 0;
    }
    if (old && old.url === this.opts.url && size > 0 && (old.total === undefined || size <= old.total)) {
      this.meta = old;
      this.offset = size;
      await hashPrefix(this.part, size, this.hash);
    } else {
      this.restart();
    }
    this.resumedFrom = this.offset;
  }

  restart(): void {
    fs.rmSync(this.part, { force: true });
    this.offset = 0;
    this.hash = createHash("sha256");
    this.meta = { url: this.opts.url };
  }

  discard(): void {
    fs.rmSync(this.part, { force: true });
    fs.rmSync(this.metaFile, { force: true });
  }

  private saveMeta(): void {
    fs.writeFileSync(this.metaFile, JSON.stringify(this.meta));
  }

  private progress(): void {
    this.opts.onProgress?.({ done: this.offset, total: this.meta.total, resumedFrom: this.resumedFrom });
  }

  /** GET with redirects; resolves with the final response (headers received). */
  private request(headers: Record<string, string>): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; host: string }> {
    const connectMs = this.opts.connectTimeoutMs ?? 10_000;
    const go = (url: URL, hops: number): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; host: string }> =>
      new Promise((resolve, reject) => {
        const lib = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
        if (!lib) return reject(new DownloadError(`cannot download from ${url.protocol} URLs (${url.href})`));
        const req = lib.request(url, { method: "GET", headers, signal: this.opts.signal });
        const timer = setTimeout(() => {
          req.destroy(new DownloadError(`no answer from ${url.host} within ${seconds(connectMs)} (offline, or a firewall?)`));
        }, connectMs);
        req.on("error", (e) => {
          clearTimeout(timer);
          if (this.opts.signal?.aborted) reject(new CancelledError("download interrupted"));
          else reject(e instanceof DownloadError ? e : new DownloadError(describeNetError(e, url.host)));
        });
        req.on("response", (res) => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (status >= 300 && status < 400 && location) {
            res.resume();
            req.destroy();
            if (hops >= MAX_REDIRECTS) return reject(new DownloadError(`too many redirects from ${this.opts.url}`));
            let next: URL;
            try {
              next = new URL(location, url);
            } catch {
              return reject(new DownloadError(`bad redirect from ${url.host}: ${location}`));
            }
            return resolve(go(next, hops + 1));
          }
          resolve({ res, req, host: url.host });
        });
        req.end();
      });
    return go(new URL(this.opts.url), 0);
  }

  /** One request: appends what the server sends to the .part file. Resolves once the file is complete. */
  async fetchRest(): Promise<void> {
    if (this.meta.total !== undefined && this.offset === this.meta.total) return;
    const headers: Record<string, string> = { "user-agent": `llmzip/${VERSION}`, "accept-encoding": "identity" };
    if (this.offset > 0) {
      headers.range = `bytes=${this.offset}-`;
      if (this.meta.etag) headers["if-range"] = this.meta.etag;
    }
    this.requests++;
    const { res, req, host } = await this.request(headers);
    const status = res.statusCode ?? 0;
    const fail = (msg: string, retry = false): never => {
      res.resume();
      req.destroy();
      throw retry ? new Retryable(msg) : new DownloadError(msg);
    };
    if (status === 416 && this.offset > 0) {
      // Our part is as long as the file, or the file changed: start over.
      this.restart();
      fail(`${host} refused to resume; starting over`, true);
    }
    if (status === 404) fail(`not found (HTTP 404): ${this.opts.url}`);
    if (status === 401 || status === 403) fail(`access denied (HTTP ${status}) for ${this.opts.url}: the repository may be gated or private`);
    if (status >= 500) fail(`${host} answered HTTP ${status}`, true);
    if (status !== 200 && status !== 206) fail(`${host} answered HTTP ${status} for ${this.opts.url}`);

    if (status === 206) {
      const range = parseContentRange(res.headers["content-range"]);
      if (!range || range.start !== this.offset) {
        this.restart();
        fail(`${host} sent a different range than asked; starting over`, true);
      }
      if (range?.total !== undefined) this.meta.total = range.total;
    } else {
      // A full body: the server ignored (or could not honour) the Range request.
      if (this.offset > 0) this.restart();
      const len = Number(res.headers["content-length"]);
      this.meta.total = Number.isSafeInteger(len) && len >= 0 ? len : undefined;
    }
    const etag = res.headers.etag;
    if (typeof etag === "string" && !etag.startsWith("W/")) this.meta.etag = etag;
    this.saveMeta();

    const idleMs = this.opts.idleTimeoutMs ?? 30_000;
    let stalled = false;
    req.setTimeout(idleMs, () => {
      stalled = true;
      req.destroy();
    });
    const out = await fs.promises.open(this.part, "a");
    try {
      this.progress();
      for await (const piece of res) {
        const buf = piece as Buffer;
        this.hash.update(buf);
        await out.write(buf);
        this.offset += buf.length;
        this.progress();
      }
      await out.sync();
    } catch (e) {
      if (this.opts.signal?.aborted) throw new CancelledError("download interrupted");
      if (e instanceof DownloadError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT") throw new DownloadError(`no space left for ${this.part}; free some and run the same command again to resume`);
      if (stalled) throw new Retryable(`${host} stopped sending data for ${seconds(idleMs)}`);
      throw new Retryable(this.meta.total !== undefined ? `${host} closed the connection after ${this.offset} of ${this.meta.total} bytes` : describeNetError(e, host));
    } finally {
      await out.close();
    }
    if (this.meta.total !== undefined && this.offset < this.meta.total) {
      throw new Retryable(`${host} closed the connection after ${this.offset} of ${this.meta.total} bytes`);
    }
    if (this.meta.total !== undefined && this.offset > this.meta.total) {
      this.restart();
      throw new Retryable(`${host} sent more bytes than announced; starting over`);
    }
    if (this.meta.total === undefined) this.meta.total = this.offset;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(new CancelledError("download interrupted"));
      },
      { once: true },
    );
  });

/**
 * Downloads a URL to `dest`: into `dest.part` first (resumed with a Range
 * request when an earlier run left one), hashed while it arrives, checked
 * against `sha256` when given, and renamed into place only when complete.
 * A dropped connection is resumed automatically a few times; an unreachable
 * host fails within `connectTimeoutMs`. On failure the .part file stays for
 * the next run, except after a checksum mismatch, which removes it.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const dest = path.resolve(opts.dest);
  try {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
  } catch (e) {
    throw new DownloadError(`cannot create ${path.dirname(dest)}: ${(e as Error).message}`);
  }
  const release = acquireLock(dest);
  try {
    const t = new Transfer({ ...opts, dest });
    await t.resume();
    const retries = opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new CancelledError("download interrupted");
      const before = t.offset;
      try {
        await t.fetchRest();
        break;
      } catch (e) {
        if (e instanceof Retryable && attempt < retries) {
          // Back off only when a try made no progress at all.
          await sleep(t.offset > before ? 100 : 500 * (attempt + 1), opts.signal);
          continue;
        }
        if (e instanceof DownloadError && t.offset > 0) {
          throw new DownloadError(`${e.message}; ${(t.offset / 1e6).toFixed(1)} MB are kept: run the same command again to resume`);
        }
        throw e;
      }
    }
    const digest = t.hash.digest();
    const got = digest.toString("hex");
    if (opts.sha256 && got !== opts.sha256.toLowerCase()) {
      t.discard();
      throw new DownloadError(`checksum mismatch for ${path.basename(dest)}: expected sha256 ${opts.sha256}, got ${got}; the download was removed`);
    }
    if (!hasGgufMagic(t.part)) {
      t.discard();
      throw new DownloadError(`${opts.url} did not return a GGUF file; the download was removed`);
    }
    fs.renameSync(t.part, dest);
    fs.rmSync(t.metaFile, { force: true });
    rememberFingerprint(dest, digest);
    return { path: dest, size: t.offset, sha256: digest, resumedFrom: t.resumedFrom, requests: t.requests };
  } finally {
    release();
  }
}
