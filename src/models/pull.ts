import fs from "node:fs";
import { DownloadError, ModelError, UsageError } from "../errors.js";
import { findCatalogEntry, packagedFile, type CatalogEntry } from "./catalog.js";
import { downloadFile, type DownloadOptions } from "./download.js";
import { fingerprintFile } from "./fingerprint.js";
import { isHubUri, isUrl, remoteFile } from "./hub.js";
import { checkModelFile } from "./register.js";
import { checkModelName, findRegistered, putRegistered } from "./registry.js";
import { storeContext, type StoreOptions } from "./store.js";

export interface PullOptions extends StoreOptions, Pick<DownloadOptions, "signal" | "onProgress" | "connectTimeoutMs" | "idleTimeoutMs" | "retries"> {
  /** Registry name (default: the catalog name, else the file name). */
  name?: string;
  /** Expected sha256 (hex) for a URI the catalog does not pin. */
  sha256?: string;
  /** Called once the destination is known, before any byte moves. */
  onStart?: (info: PullPlan) => void;
}

export interface PullPlan {
  name: string;
  /** What was pulled: the hf: URI or URL (a catalog name is recorded as its URI). */
  source: string;
  url: string;
  dest: string;
  /** sha256 the file must have (catalog pin or --sha256); undefined when unpinned. */
  expectedSha256?: string;
  /** The catalog's size estimate, before the server tells the real one. */
  approxBytes?: number;
}

export interface PullResult extends PullPlan {
  size: number;
  /** sha256 of the file, hex. */
  sha256: string;
  /** The file was already in the cache (nothing was downloaded). */
  alreadyPresent: boolean;
  resumedFrom: number;
}

/** The catalog hub entry for a name or for an hf: URI it pins. */
function catalogEntryFor(spec: string, catalog: readonly CatalogEntry[]): CatalogEntry | undefined {
  if (isHubUri(spec)) return catalog.find((e) => e.kind === "hub" && e.uri === spec);
  if (isUrl(spec)) return undefined;
  return findCatalogEntry(spec, catalog);
}

/** Works out what to download, where to, under which name and with which checksum. */
export function planPull(spec: string, opts: PullOptions = {}): PullPlan {
  const ctx = storeContext(opts);
  const entry = catalogEntryFor(spec, ctx.catalog);
  if (!entry && !isHubUri(spec) && !isUrl(spec)) {
    throw new ModelError(`unknown model '${spec}': pull takes a catalog name ('llmzip models list --catalog'), hf:USER/REPO/FILE.gguf or an https URL`);
  }
  if (entry?.kind === "package") {
    const file = packagedFile(entry, ctx.packageRoot);
    throw new ModelError(fs.existsSync(file) ? `${entry.name} ships with llmzip (${file}); there is nothing to download` : `${entry.name} ships with llmzip as ${entry.file}, which is missing: reinstall llmzip`);
  }
  const uri = entry?.kind === "hub" ? entry.uri : spec;
  const remote = remoteFile(uri, ctx.paths.cache, ctx.env);
  const pinned = entry?.kind === "hub" ? entry.sha256 : undefined;
  const given = opts.sha256?.toLowerCase();
  if (given !== undefined && !/^[0-9a-f]{64}$/.test(given)) throw new UsageError(`--sha256 must be 64 hex digits (got '${opts.sha256}')`);
  if (given && pinned && given !== pinned) throw new UsageError(`--sha256 differs from the catalog's pin for ${entry?.name} (${pinned})`);
  return {
    name: checkModelName(opts.name ?? entry?.name ?? remote.defaultName),
    source: uri,
    url: remote.url,
    dest: remote.cachePath,
    expectedSha256: given ?? pinned,
    approxBytes: entry?.approxBytes,
  };
}

/**
 * Downloads a catalog model, an hf: URI or an https URL into llmzip's cache
 * and registers it. Resumes an interrupted download, checks the sha256 where
 * one is pinned, and never leaves a partial file under the final name.
 */
export async function pullModel(spec: string, opts: PullOptions = {}): Promise<PullResult> {
  const ctx = storeContext(opts);
  const plan = planPull(spec, { ...opts, store: ctx });
  const taken = findRegistered(ctx.paths, plan.name);
  if (taken && taken.path !== plan.dest) {
    throw new ModelError(`the name '${plan.name}' is already registered for ${taken.path}; choose another with --name, or run 'llmzip models rm ${plan.name}' first`);
  }
  let result: { size: number; sha256: string; alreadyPresent: boolean; resumedFrom: number };
  if (fs.existsSync(plan.dest)) {
    const fp = await fingerprintFile(plan.dest);
    const sha256 = fp.sha256.toString("hex");
    if (plan.expectedSha256 && sha256 !== plan.expectedSha256) {
      throw new DownloadError(`${plan.dest} is in the cache but its sha256 (${sha256}) is not the expected ${plan.expectedSha256}: remove it with 'llmzip models rm ${plan.name}' and pull again`);
    }
    result = { size: fp.size, sha256, alreadyPresent: true, resumedFrom: 0 };
  } else {
    opts.onStart?.(plan);
    const got = await downloadFile({
      url: plan.url,
      dest: plan.dest,
      sha256: plan.expectedSha256,
      signal: opts.signal,
      onProgress: opts.onProgress,
      connectTimeoutMs: opts.connectTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      retries: opts.retries,
    });
    result = { size: got.size, sha256: got.sha256.toString("hex"), alreadyPresent: false, resumedFrom: got.resumedFrom };
  }
  checkModelFile(plan.dest);
  putRegistered(ctx.paths, { name: plan.name, path: plan.dest, size: result.size, sha256: result.sha256, source: plan.source, added: new Date().toISOString() });
  return { ...plan, ...result };
}
