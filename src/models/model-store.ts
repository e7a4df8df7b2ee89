/**
 * The model store as one object: where llmzip's models live on this machine
 * and everything a command does with them. A command builds one store and
 * asks it; the functions behind it share the store instead of rebuilding it.
 */
import type { ModelRef } from "../container/format.js";
import { readConfig, updateConfig } from "./config.js";
import { describeMissingModel, findModelByFingerprint, modelLocator } from "./find.js";
import { listCatalog, listModels, type CatalogListing, type ModelListing } from "./list.js";
import type { StorePaths } from "./paths.js";
import { pullModel, type PullOptions, type PullResult } from "./pull.js";
import { addModel, removeModel, type AddOptions, type RemoveResult } from "./register.js";
import type { RegisteredModel } from "./registry.js";
import type { GgufInfo } from "./gguf.js";
import { resolveModel, resolveModelSpec, type ResolvedModel } from "./resolve.js";
import { localModels, storeContext, type LocalModel, type StoreContext, type StoreOptions } from "./store.js";

/** Options of one store operation, without the store's own (home, catalog, env...). */
type Own<T> = Omit<T, keyof StoreOptions>;

export class ModelStore {
  private readonly ctx: StoreContext;

  /** A store over `$LLMZIP_HOME` (or `opts.home`), the built-in catalog and this package, unless told otherwise. */
  constructor(opts: StoreOptions = {}) {
    this.ctx = storeContext(opts);
  }

  /** Where the registry, config and cache are. */
  get paths(): StorePaths {
    return this.ctx.paths;
  }

  /** The model compress uses: the spec given (-m), else $LLMZIP_MODEL, the configured default, the catalog's default. */
  resolve(spec?: string): ResolvedModel {
    return resolveModel({ flag: spec, store: this.ctx });
  }

  /** A path, registered name, catalog name or hf: URI as a local file; never downloads. */
  resolveSpec(spec: string): string {
    return resolveModelSpec(spec, { store: this.ctx });
  }

  /** The local model with the archive's fingerprint, trying `preferred` files first. */
  find(ref: Pick<ModelRef, "size" | "sha256">, preferred: string[] = []): Promise<LocalModel | undefined> {
    return findModelByFingerprint(ref, { preferred, store: this.ctx });
  }

  /** A `locateModel` callback for decompress over this store. */
  locator(preferred: string[] = []): (ref: ModelRef) => Promise<string> {
    return modelLocator({ preferred, store: this.ctx });
  }

  /** The one-line error for an archive whose model is not here. */
  describeMissing(ref: ModelRef): string {
    return describeMissingModel(ref, { store: this.ctx });
  }

  /** Registered, downloaded and shipped models, without fingerprints or headers. */
  local(): LocalModel[] {
    return localModels(this.ctx);
  }

  /** Every local model, described from its GGUF header and fingerprint. */
  list(): Promise<ModelListing[]> {
    return listModels({ store: this.ctx });
  }

  /** The catalog of models `pull` can fetch, and which of them are here. */
  catalog(): CatalogListing[] {
    return listCatalog({ store: this.ctx });
  }

  /** Downloads a catalog name, hf: URI or URL into the cache and registers it. */
  pull(spec: string, opts: Own<PullOptions> = {}): Promise<PullResult> {
    return pullModel(spec, { ...opts, store: this.ctx });
  }

  /** Registers a local GGUF model under a name. */
  add(file: string, opts: Own<AddOptions> = {}): Promise<RegisteredModel & { info: GgufInfo }> {
    return addModel(file, { ...opts, store: this.ctx });
  }

  /** Forgets a model; deletes its file only when it is in llmzip's cache. */
  remove(name: string): RemoveResult {
    return removeModel(name, { store: this.ctx });
  }

  /** The configured default model spec, if any. */
  defaultSpec(): string | undefined {
    return readConfig(this.ctx.paths).model;
  }

  /** Sets (or, with undefined, clears) the configured default; a spec is checked first, so that a typo fails now. */
  setDefault(spec: string | undefined): string | undefined {
    const file = spec === undefined ? undefined : this.resolveSpec(spec);
    updateConfig(this.ctx.paths, { model: spec });
    return file;
  }
}
