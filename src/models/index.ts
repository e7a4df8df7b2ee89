/**
 * "llmzip/models": the model store's functions one by one, for callers that
 * want them without a {@link ModelStore}: each takes `{ home, catalog,
 * packageRoot, env }` or `{ store }`. Most callers want `ModelStore` from "llmzip".
 */
export { ModelStore } from "./model-store.js";
export { storeContext, type StoreContext, type StoreOptions, type LocalModel, type ModelOrigin } from "./store.js";
export { resolveModel, resolveModelSpec, type ResolvedModel, type ResolveOptions, type ModelChoice } from "./resolve.js";
export { findModelByFingerprint, modelLocator, describeMissingModel, type FindOptions } from "./find.js";
export { pullModel, planPull, type PullOptions, type PullPlan, type PullResult } from "./pull.js";
export { addModel, removeModel, type AddOptions, type RemoveResult } from "./register.js";
export { listModels, listCatalog, type ModelListing, type CatalogListing } from "./list.js";
export { readGgufInfo, type GgufInfo } from "./gguf.js";
export { CATALOG, type CatalogEntry } from "./catalog.js";
export { downloadFile, type DownloadOptions, type DownloadProgress } from "./download.js";
export { fingerprintFile, type FileFingerprint } from "./fingerprint.js";
export { storePaths, type StorePaths } from "./paths.js";
