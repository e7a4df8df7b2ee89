import path from "node:path";
import { UsageError } from "../errors.js";

/** A file on the Hugging Face Hub: `hf:USER/REPO[@REVISION]/PATH/FILE.gguf`. */
export interface HubRef {
  user: string;
  repo: string;
  /** Branch, tag or commit; "main" when the URI names none. */
  revision: string;
  /** Path of the file inside the repository (may contain folders). */
  file: string;
}

/** Something `models pull` can download: its URL and where it goes in the cache. */
export interface RemoteFile {
  url: string;
  /** Absolute destination below the cache folder. */
  cachePath: string;
  /** Default registry name (file name without .gguf, lowercased). */
  defaultName: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DEFAULT_ENDPOINT = "https://huggingface.co";

export function isHubUri(spec: string): boolean {
  return spec.startsWith("hf:");
}

export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/** Parses `hf:USER/REPO[@REVISION]/FILE.gguf`; a UsageError says what is wrong. */
export function parseHubUri(uri: string): HubRef {
  const bad = (why: string) => new UsageError(`bad model URI '${uri}': ${why} (expected hf:USER/REPO/FILE.gguf or hf:USER/REPO@REVISION/FILE.gguf)`);
  if (!isHubUri(uri)) throw bad("it does not start with hf:");
  const parts = uri.slice(3).split("/");
  if (parts.length < 3) throw bad("it needs a user, a repository and a file");
  const [user = "", repoRev = "", ...fileParts] = parts;
  const at = repoRev.indexOf("@");
  const repo = at < 0 ? repoRev : repoRev.slice(0, at);
  const revision = at < 0 ? "main" : repoRev.slice(at + 1);
  if (!SEGMENT.test(user)) throw bad(`'${user}' is not a user or organisation name`);
  if (!SEGMENT.test(repo)) throw bad(`'${repo}' is not a repository name`);
  if (!SEGMENT.test(revision)) throw bad(`'${revision}' is not a revision`);
  for (const p of fileParts) if (!SEGMENT.test(p)) throw bad(`'${p}' is not a valid path segment`);
  const file = fileParts.join("/");
  if (!/\.gguf$/i.test(file)) throw bad("the file must be a .gguf");
  return { user, repo, revision, file };
}

/** The Hub's base URL: $LLMZIP_HF_ENDPOINT, else $HF_ENDPOINT (huggingface_hub's variable), else huggingface.co. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.LLMZIP_HF_ENDPOINT || env.HF_ENDPOINT || DEFAULT_ENDPOINT;
  if (!isUrl(raw)) throw new UsageError(`LLMZIP_HF_ENDPOINT must be an http(s) URL (got '${raw}')`);
  return raw.replace(/\/+$/, "");
}

export function hubUrl(ref: HubRef, env: NodeJS.ProcessEnv = process.env): string {
  const file = ref.file.split("/").map(encodeURIComponent).join("/");
  return `${hubEndpoint(env)}/${ref.user}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
}

function nameFromFile(file: string): string {
  return path.basename(file).replace(/\.gguf$/i, "").toLowerCase();
}

/**
 * Where a hub URI or plain http(s) URL downloads to. Hub files keep their
 * repository layout (`hf/USER/REPO/REVISION/FILE`) so that two repositories'
 * files of the same name cannot collide.
 */
export function remoteFile(spec: string, cacheDir: string, env: NodeJS.ProcessEnv = process.env): RemoteFile {
  if (isHubUri(spec)) {
    const ref = parseHubUri(spec);
    return {
      url: hubUrl(ref, env),
      cachePath: path.join(cacheDir, "hf", ref.user, ref.repo, ref.revision, ...ref.file.split("/")),
      defaultName: nameFromFile(ref.file),
    };
  }
  if (isUrl(spec)) {
    let u: URL;
    try {
      u = new URL(spec);
    } catch {
      throw new UsageError(`bad URL '${spec}'`);
    }
    const base = decodeURIComponent(u.pathname.split("/").pop() ?? "");
    if (!SEGMENT.test(base) || !/\.gguf$/i.test(base)) throw new UsageError(`URL '${spec}' does not end in a .gguf file name`);
    const host = u.host.replace(/[^A-Za-z0-9._-]/g, "_");
    return { url: u.toString(), cachePath: path.join(cacheDir, "url", host, base), defaultName: nameFromFile(base) };
  }
  throw new UsageError(`'${spec}' is neither hf:USER/REPO/FILE.gguf nor an http(s) URL`);
}
