import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { downloadLine } from "../src/cli/progress-text.js";
import { DownloadError, ModelError } from "../src/errors.js";
import type { CatalogEntry } from "../src/models/catalog.js";
import type { DownloadProgress } from "../src/models/download.js";
import { fingerprintFile } from "../src/models/fingerprint.js";
import { pullModel } from "../src/models/pull.js";
import { readRegistry } from "../src/models/registry.js";
import { storePaths } from "../src/models/paths.js";
import { bin, llmzipAsync, tempDir } from "./helpers/cli.js";
import { closedPort, FileServer } from "./helpers/file-server.js";
import { modelPath } from "./helpers/shared.js";

const MODEL = fs.readFileSync(modelPath("stories260K.gguf"));
const SHA = createHash("sha256").update(MODEL).digest("hex");
const ROUTE = "/tester/tiny-GGUF/resolve/main/stories260K.gguf";
const URI = "hf:tester/tiny-GGUF/stories260K.gguf";

let server: FileServer;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await FileServer.start();
});
const suiteHome = process.env.LLMZIP_HOME;
afterAll(async () => {
  process.env.LLMZIP_HOME = suiteHome;
  await server.close();
});

beforeEach(() => {
  // Everything llmzip keeps (registry, fingerprints, cache) goes to a fresh folder.
  home = tempDir("llmzip-pull-");
  process.env.LLMZIP_HOME = home;
  env = { ...process.env, LLMZIP_HOME: home, LLMZIP_HF_ENDPOINT: server.base };
  server.files.clear();
  server.redirects.clear();
  server.files.set(ROUTE, MODEL);
  server.requests.length = 0;
  Object.assign(server, { cutAfter: 0, cuts: 0, ignoreRange: false, stallHeaders: false, stallBodyAfter: undefined });
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
});

const cacheFile = () => path.join(home, "models", "hf", "tester", "tiny-GGUF", "main", "stories260K.gguf");
const sameBytes = (file: string) => Buffer.compare(fs.readFileSync(file), MODEL) === 0;

describe("models pull from a loopback hub", () => {
  it("downloads into the cache with progress, registers the model and leaves no partial file", async () => {
    const seen: DownloadProgress[] = [];
    const r = await pullModel(URI, { env, onProgress: (p) => seen.push({ ...p }) });
    expect(r.dest).toBe(cacheFile());
    expect(sameBytes(r.dest)).toBe(true);
    expect(r.sha256).toBe(SHA);
    expect(r.alreadyPresent).toBe(false);
    expect(fs.existsSync(`${r.dest}.part`)).toBe(false);
    expect(fs.existsSync(`${r.dest}.part.json`)).toBe(false);
    expect(fs.existsSync(`${r.dest}.lock`)).toBe(false);
    // Progress only grows and ends at the full size, which it knew from the start.
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done ?? 0);
    expect(seen.at(-1)).toEqual({ done: MODEL.length, total: MODEL.length, resumedFrom: 0 });
    expect(server.requests[0]?.userAgent).toMatch(/^llmzip\//);
    const reg = readRegistry(storePaths(home));
    expect(reg.map((m) => [m.name, m.path, m.sha256, m.source])).toEqual([["stories260k", cacheFile(), SHA, URI]]);
    // The hash computed while downloading went into the fingerprint cache.
    const cache = JSON.parse(fs.readFileSync(path.join(home, "fingerprints.json"), "utf8")) as Record<string, { sha256: string }>;
    expect(cache[cacheFile()]?.sha256).toBe(SHA);
    // A second pull finds the file and downloads nothing.
    const again = await pullModel(URI, { env });
    expect(again.alreadyPresent).toBe(true);
    expect(server.requests.length).toBe(1);
  });

  it("follows redirects (the Hub sends files from a CDN)", async () => {
    server.files.delete(ROUTE);
    server.files.set("/cdn/blob", MODEL);
    server.redirects.set(ROUTE, "/cdn/blob");
    const r = await pullModel(URI, { env });
    expect(sameBytes(r.dest)).toBe(true);
    expect(server.requests.map((q) => q.path)).toEqual([ROUTE, "/cdn/blob"]);
  });

  it("resumes with a Range request when the server cuts the connection mid-file", async () => {
    server.cutAfter = 300_000;
    server.cuts = 1;
    const r = await pullModel(URI, { env });
    expect(sameBytes(r.dest)).toBe(true);
    expect(r.sha256).toBe(SHA);
    expect(server.requests.map((q) => q.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(server.requests[1]?.ifRange).toBe('"v1"');
    // Resumed where the first response stopped (a stream drops what it buffered when its socket dies, so at most 300000).
    const from = Number(/\d+/.exec(server.requests[1]?.range ?? "")?.[0]);
    expect(from).toBeGreaterThan(200_000);
    expect(from).toBeLessThanOrEqual(300_000);
  });

  it("keeps the partial file when the connection stays broken, and the next run resumes from it", async () => {
    server.cutAfter = 400_000;
    server.cuts = 1;
    const err = await pullModel(URI, { env, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    const kept = fs.statSync(`${cacheFile()}.part`).size;
    expect(kept).toBeGreaterThan(300_000);
    expect(kept).toBeLessThanOrEqual(400_000);
    expect((err as Error).message).toMatch(new RegExp(`closed the connection after ${kept} of 1185440 bytes; 0\\.\\d MB are kept: run the same command again to resume$`));
    expect(fs.existsSync(cacheFile())).toBe(false);
    expect(readRegistry(storePaths(home))).toEqual([]);

    const seen: DownloadProgress[] = [];
    const r = await pullModel(URI, { env, onProgress: (p) => seen.push({ ...p }) });
    expect(r.resumedFrom).toBe(kept);
    expect(server.requests.at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(seen[0]).toEqual({ done: kept, total: MODEL.length, resumedFrom: kept });
    expect(sameBytes(r.dest)).toBe(true);
    expect(r.sha256).toBe(SHA);
    expect(fs.existsSync(`${cacheFile()}.part`)).toBe(false);
  });

  it("starts over when the server ignores the Range request", async () => {
    server.cutAfter = 200_000;
    server.cuts = 1;
    server.ignoreRange = true;
    const r = await pullModel(URI, { env });
    expect(sameBytes(r.dest)).toBe(true);
    expect(server.requests.map((q) => q.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
  });

  it("a checksum mismatch removes the partial file, registers nothing and fails", async () => {
    const wrong = "0".repeat(64);
    const err = await pullModel(URI, { env, sha256: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toContain(`expected sha256 ${wrong}, got ${SHA}; the download was removed`);
    expect(fs.readdirSync(path.dirname(cacheFile()))).toEqual([]);
    expect(readRegistry(storePaths(home))).toEqual([]);
  });

  it("checks a catalog entry's pinned sha256 (resumed downloads included)", async () => {
    const catalog: CatalogEntry[] = [
      { kind: "hub", name: "tiny", description: "test", uri: URI, sha256: "f".repeat(64), pin: "test", approxBytes: 1e6, parameters: "260K", license: "MIT" },
    ];
    server.cutAfter = 500_000;
    server.cuts = 1;
    const err = await pullModel("tiny", { env, catalog }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/checksum mismatch for stories260K.gguf/);
    expect(fs.readdirSync(path.dirname(cacheFile()))).toEqual([]);

    const ok = await pullModel("tiny", { env, catalog: [{ ...catalog[0], sha256: SHA } as CatalogEntry] });
    expect(ok.name).toBe("tiny");
    expect(ok.expectedSha256).toBe(SHA);
    expect(sameBytes(ok.dest)).toBe(true);
  });

  it("fails fast and clearly when nothing listens", async () => {
    const port = await closedPort();
    const t0 = performance.now();
    const err = await pullModel(URI, { env: { ...env, LLMZIP_HF_ENDPOINT: `http://127.0.0.1:${port}` } }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toBe(`cannot connect to 127.0.0.1:${port}: connection refused`);
  });

  it("gives up on a server that never answers after the connect timeout, instead of hanging", async () => {
    server.stallHeaders = true;
    const t0 = performance.now();
    const err = await pullModel(URI, { env, connectTimeoutMs: 400 }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(3000);
    expect((err as Error).message).toMatch(/^no answer from 127\.0\.0\.1:\d+ within 0\.4 s \(offline/);
  });

  it("treats a body that stops arriving as a dropped connection", async () => {
    server.stallBodyAfter = 100_000;
    const err = await pullModel(URI, { env, idleTimeoutMs: 300, retries: 0 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/stopped sending data for 0\.3 s; 0\.1 MB are kept: run the same command again to resume$/);
    expect(fs.statSync(`${cacheFile()}.part`).size).toBe(100_000);
  });

  it("reports HTTP errors and refuses what is not a GGUF file", async () => {
    server.files.delete(ROUTE);
    const err = await pullModel(URI, { env }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`not found (HTTP 404): ${server.base}${ROUTE}`);
    server.files.set(ROUTE, Buffer.from("<html>rate limited</html>"));
    const html = await pullModel(URI, { env }).catch((e: unknown) => e);
    expect((html as Error).message).toMatch(/did not return a GGUF file; the download was removed/);
    expect(fs.readdirSync(path.dirname(cacheFile()))).toEqual([]);
  });

  it("refuses to run two downloads of the same file at once", async () => {
    fs.mkdirSync(path.dirname(cacheFile()), { recursive: true });
    fs.writeFileSync(`${cacheFile()}.lock`, String(process.pid));
    const err = await pullModel(URI, { env }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/another llmzip \(pid \d+\) is downloading stories260K.gguf/);
    // A lock left by a process that is gone is taken over.
    fs.writeFileSync(`${cacheFile()}.lock`, "999999999");
    expect(sameBytes((await pullModel(URI, { env })).dest)).toBe(true);
  });

  it("rejects unknown names and malformed URIs before any network access", async () => {
    await expect(pullModel("no-such-model", { env })).rejects.toBeInstanceOf(ModelError);
    await expect(pullModel("hf:only/two", { env })).rejects.toThrow(/needs a user, a repository and a file/);
    await expect(pullModel("hf:a/b/../../etc/passwd.gguf", { env })).rejects.toThrow(/not a valid path segment/);
    expect(server.requests).toEqual([]);
  });

  it("draws the progress line with bytes, speed and ETA", () => {
    const line = downloadLine("tiny", { done: 60e6, total: 120e6, resumedFrom: 20e6 }, 4, 10);
    expect(line).toBe("tiny █████░░░░░  50% 60.0 MB / 120.0 MB 10.0 MB/s ETA 0:06");
    expect(downloadLine("x", { done: 1500, resumedFrom: 0 }, 1)).toBe("x 1.5 kB 1.5 kB/s");
  });
});

describe("llmzip models pull (CLI)", () => {
  it("pulls, lists and removes a model through the command line", async () => {
    const pulled = await llmzipAsync(["models", "pull", URI, "--name", "tiny"], { env });
    expect(pulled.stderr).toMatch(/^pulled tiny: 1\.2 MB in [\d.]+ s \(.*no sha256 pinned: not verified\) -> .*stories260K\.gguf\n$/);
    expect(pulled.status).toBe(0);
    const listed = JSON.parse((await llmzipAsync(["models", "list", "--json"], { env })).stdout) as { name: string; sha256: string; vocabSize: number; origin: string }[];
    // The model shipped with llmzip is always listed too (default-model.test.ts).
    expect(listed.filter((m) => m.origin !== "package").map((m) => [m.name, m.sha256, m.vocabSize])).toEqual([["tiny", SHA, 512]]);
    const rm = await llmzipAsync(["models", "rm", "tiny"], { env });
    expect(rm.stderr).toContain(`removed tiny from the registry and deleted ${cacheFile()} (it was in llmzip's cache)`);
    expect(fs.existsSync(cacheFile())).toBe(false);
  });

  it("Ctrl-C keeps the partial download, and the same command resumes it", async () => {
    server.stallBodyAfter = 250_000;
    const child = spawn(process.execPath, [bin, "models", "pull", URI], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    const part = `${cacheFile()}.part`;
    for (let i = 0; i < 200 && !(fs.existsSync(part) && fs.statSync(part).size === 250_000); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(status).toBe(130);
    expect(Buffer.concat(stderr).toString()).toBe("llmzip: interrupted; 250.0 kB kept: run the same command again to resume\n");
    expect(fs.statSync(part).size).toBe(250_000);
    expect(fs.existsSync(`${cacheFile()}.lock`)).toBe(false);
    server.stallBodyAfter = undefined;
    const again = await llmzipAsync(["models", "pull", URI], { env });
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/resumed at 250\.0 kB; no sha256 pinned/);
    expect(server.requests.at(-1)?.range).toBe("bytes=250000-");
    expect(sameBytes(cacheFile())).toBe(true);
  });

  it("exits 1 with one line on a checksum mismatch or an unreachable hub", async () => {
    const bad = await llmzipAsync(["models", "pull", URI, "--sha256", "a".repeat(64)], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^llmzip: checksum mismatch for stories260K\.gguf: .* the download was removed\n$/);
    const port = await closedPort();
    const t0 = performance.now();
    const off = await llmzipAsync(["models", "pull", URI], { env: { ...env, LLMZIP_HF_ENDPOINT: `http://127.0.0.1:${port}` } });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(off.status).toBe(1);
    expect(off.stderr).toBe(`llmzip: cannot connect to 127.0.0.1:${port}: connection refused\n`);
    const usage = await llmzipAsync(["models", "pull", URI, "--sha256", "xyz"], { env });
    expect(usage.status).toBe(2);
  });
});

describe("fingerprints of pulled files", () => {
  it("match a fresh hash of the file", async () => {
    const r = await pullModel(URI, { env });
    expect((await fingerprintFile(r.dest)).sha256.toString("hex")).toBe(SHA);
  });
});
