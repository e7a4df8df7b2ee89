import type { Command } from "commander";
import { CancelledError, LlmzipError } from "../errors.js";
import type { CatalogListing, ModelListing } from "../models/list.js";
import { ModelStore } from "../models/model-store.js";
import { formatBytes } from "../util/bytes.js";
import { abortOnSignals } from "../util/signals.js";
import { LiveLine } from "./live-line.js";
import { makeReporter, type Reporter } from "./output.js";

interface CommonFlags {
  quiet?: boolean;
  verbose?: boolean;
}

/** 292800 -> 293K, 57942528 -> 57.9M, 1235814400 -> 1.24B. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}K`;
  return String(n);
}

const KIND: Record<ModelListing["origin"], string> = { registered: "registered", cache: "cached", package: "shipped", file: "file" };

/** Columns padded to their widest cell; the last column is not padded. */
function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

function renderModels(rows: ModelListing[]): string {
  const head = ["NAME", "KIND", "SIZE", "SHA256", "ARCH", "PARAMS", "VOCAB", "CTX", "PATH"];
  const body = rows.map((m) => [
    m.name,
    KIND[m.origin],
    m.size >= 0 ? formatBytes(m.size) : "-",
    m.sha256 ? m.sha256.slice(0, 12) : "-",
    m.architecture ?? "-",
    m.parameters !== undefined ? formatCount(m.parameters) : "-",
    m.vocabSize ? String(m.vocabSize) : "-",
    m.contextLength ? String(m.contextLength) : "-",
    m.path,
  ]);
  const problems = rows.filter((m) => m.problem).map((m) => `  ${m.name}: ${m.problem}`);
  return [table([head, ...body]), ...problems].join("\n");
}

function renderCatalog(rows: CatalogListing[]): string {
  const head = ["NAME", "SIZE", "PARAMS", "PINNED", "HERE", "DESCRIPTION"];
  const body = rows.map((e) => [
    `${e.name}${e.recommended ? " *" : ""}`,
    `~${formatBytes(e.approxBytes)}`,
    e.parameters,
    e.sha256 ? "sha256" : "no",
    e.path ? "yes" : "-",
    `${e.description} (${e.license})`,
  ]);
  return `${table([head, ...body])}\n* recommended default. Download one with: llmzip models pull NAME`;
}

/** "compress uses smollm2-135m (config)" or the hint for getting a model. */
function defaultLine(store: ModelStore): string {
  try {
    const r = store.resolve();
    const via = { flag: "-m", env: "LLMZIP_MODEL", config: "config", default: "catalog default" }[r.via];
    return `compress without -m uses ${r.spec} (${via})`;
  } catch (e) {
    return e instanceof LlmzipError ? e.message : String(e);
  }
}

async function list(store: ModelStore, flags: CommonFlags & { json?: boolean; catalog?: boolean }): Promise<void> {
  if (flags.catalog) {
    const rows = store.catalog();
    process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : `${renderCatalog(rows)}\n`);
    return;
  }
  const rows = await store.list();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write("no models yet: 'llmzip models list --catalog' shows models to pull; 'llmzip models add PATH' registers a GGUF file you have\n");
  } else {
    process.stdout.write(`${renderModels(rows)}\n`);
  }
  if (!flags.quiet) process.stderr.write(`${defaultLine(store)}\n`);
}

async function add(store: ModelStore, file: string, flags: CommonFlags & { name?: string }, rep: Reporter): Promise<void> {
  const m = await store.add(file, { name: flags.name });
  rep.info(`registered ${m.name}: ${m.path} (${formatBytes(m.size)}, ${m.info.architecture}, ${formatCount(m.info.parameters)} parameters, sha256 ${m.sha256.slice(0, 12)}…)`);
}

async function pull(store: ModelStore, spec: string, flags: CommonFlags & { name?: string; sha256?: string }, rep: Reporter): Promise<number> {
  const signals = abortOnSignals();
  let bar: LiveLine | undefined;
  let kept = 0;
  try {
    const r = await store.pull(spec, {
      name: flags.name,
      sha256: flags.sha256,
      signal: signals.signal,
      onStart: (plan) => {
        rep.debug(`downloading ${plan.url} -> ${plan.dest}${plan.expectedSha256 ? ` (sha256 ${plan.expectedSha256})` : " (no pinned sha256)"}`);
        bar = new LiveLine(plan.name, rep);
      },
      onProgress: (p) => {
        kept = p.done;
        bar?.download(p);
      },
    });
    bar?.stop();
    if (r.alreadyPresent) {
      rep.info(`${r.name} is already downloaded: ${r.dest}`);
    } else {
      const seconds = bar?.elapsed() ?? 0;
      const moved = r.size - r.resumedFrom;
      const resumed = r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : "";
      const check = r.expectedSha256 ? "sha256 checked" : "no sha256 pinned: not verified";
      rep.info(`pulled ${r.name}: ${formatBytes(r.size)} in ${seconds.toFixed(1)} s (${formatBytes(seconds > 0 ? Math.round(moved / seconds) : moved)}/s${resumed}; ${check}) -> ${r.dest}`);
    }
    return 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof CancelledError) {
      rep.info(`llmzip: interrupted; ${formatBytes(kept)} kept: run the same command again to resume`);
      return 130;
    }
    throw e;
  } finally {
    signals.dispose();
  }
}

function rm(store: ModelStore, name: string, rep: Reporter): void {
  const r = store.remove(name);
  const what = r.wasRegistered ? `removed ${r.name} from the registry` : `removed ${r.name}`;
  const file = r.deletedFile ? `and deleted ${r.path} (it was in llmzip's cache)` : `; the file ${r.path} was left in place (it is not in llmzip's cache)`;
  rep.info(`${what} ${file}`.replace(" ;", ";"));
  if (r.clearedDefault) rep.info(`${r.name} was the default model; no default is set now`);
}

function setDefault(store: ModelStore, name: string | undefined, flags: CommonFlags & { unset?: boolean }, rep: Reporter): void {
  if (flags.unset) {
    store.setDefault(undefined);
    rep.info(`no default model is set now (${store.paths.config})`);
    return;
  }
  if (!name) {
    process.stdout.write(`${store.defaultSpec() ?? "(none)"}\n`);
    if (!flags.quiet) process.stderr.write(`${defaultLine(store)}\n`);
    return;
  }
  // Checked by the store first, so that a typo fails here rather than at the next compress.
  const file = store.setDefault(name);
  rep.info(`default model: ${name} (${file}), saved in ${store.paths.config}`);
}

const common = (cmd: Command): Command => cmd.option("-q, --quiet", "print nothing but errors").option("-v, --verbose", "print details, and stack traces on errors");

export function register(program: Command): void {
  const models = program
    .command("models")
    .description("list, register, download and remove models")
    .addHelpText(
      "after",
      `
Models are found in this order: -m PATH|NAME|hf:USER/REPO/FILE.gguf, $LLMZIP_MODEL,
the default in $LLMZIP_HOME/config.json ('llmzip models default NAME'), then
llmzip-en, the model shipped with llmzip. decompress finds the archive's model by
its sha256 among registered, downloaded and shipped models.

Examples:
  llmzip models list --catalog                 what 'pull' can download
  llmzip models pull smollm2-135m              download into the cache (resumable)
  llmzip models pull hf:USER/REPO/FILE.gguf    any GGUF on the Hugging Face Hub
  llmzip models add ~/models/my.gguf --name my register a file you have
  llmzip models list                           registered and downloaded models
  llmzip models default my                     compress uses 'my' without -m
  llmzip models rm my                          forget it (files in the cache are deleted)`,
    );

  common(models.command("list").description("registered, downloaded and shipped models (or the catalog)"))
    .option("--json", "print JSON")
    .option("--catalog", "list the built-in catalog of models to pull instead")
    .action(async (flags: CommonFlags & { json?: boolean; catalog?: boolean }) => list(new ModelStore(), flags));

  common(models.command("add").description("register a local GGUF model under a name").argument("<path>", "GGUF model file"))
    .option("--name <name>", "name to register it under (default: file name without .gguf)")
    .action(async (file: string, flags: CommonFlags & { name?: string }) => add(new ModelStore(), file, flags, makeReporter(flags)));

  common(
    models
      .command("pull")
      .description("download a model into llmzip's cache and register it")
      .argument("<model>", "catalog name, hf:USER/REPO[@REVISION]/FILE.gguf, or an https URL"),
  )
    .option("--name <name>", "name to register it under")
    .option("--sha256 <hex>", "expected sha256 of the file (catalog models are pinned already)")
    .addHelpText("after", "\nThe Hub's address can be changed with LLMZIP_HF_ENDPOINT (or HF_ENDPOINT).")
    .action(async (spec: string, flags: CommonFlags & { name?: string; sha256?: string }) => {
      process.exitCode = await pull(new ModelStore(), spec, flags, makeReporter(flags));
    });

  common(models.command("rm").description("forget a model; deletes its file only if it is in llmzip's cache").argument("<name>", "registered or cached model name"))
    .action((name: string, flags: CommonFlags) => rm(new ModelStore(), name, makeReporter(flags)));

  common(models.command("default").description("show or set the model compress uses without -m").argument("[model]", "path, name or hf: URI"))
    .option("--unset", "remove the default")
    .action((name: string | undefined, flags: CommonFlags & { unset?: boolean }) => setDefault(new ModelStore(), name, flags, makeReporter(flags)));
}
