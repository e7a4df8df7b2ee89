import fs from "node:fs";
import path from "node:path";
import { findPackageDir, packageRoot } from "../util/package.js";

/** Backends llmzip can run on; each maps to one prebuilt llama.cpp package. */
export const BACKENDS = ["cpu", "cuda", "vulkan"] as const;
export type Backend = (typeof BACKENDS)[number];

/** True for a backend name this build knows (an archive's header may name any string). */
export function isBackend(name: string): name is Backend {
  return (BACKENDS as readonly string[]).includes(name);
}

const BACKEND_PACKAGES: Record<Backend, { pkg: string; bins: string }> = {
  cpu: { pkg: "@node-llama-cpp/linux-x64", bins: "linux-x64" },
  cuda: { pkg: "@node-llama-cpp/linux-x64-cuda", bins: "linux-x64-cuda" },
  vulkan: { pkg: "@node-llama-cpp/linux-x64-vulkan", bins: "linux-x64-vulkan" },
};

/** Folder with the prebuilt llama.cpp / ggml libraries of a backend, if installed. */
export function backendLibDir(backend: Backend): string | undefined {
  const { pkg, bins } = BACKEND_PACKAGES[backend];
  const dir = findPackageDir(pkg);
  const libs = dir && path.join(dir, "bins", bins);
  return libs && fs.existsSync(libs) ? libs : undefined;
}

/** Path of llmzip's compiled addon for a backend, if it was built. */
export function addonPath(backend: Backend): string | undefined {
  const p = path.join(packageRoot, "native", "build", backend, "build", "Release", `llmzip_${backend}.node`);
  return fs.existsSync(p) ? p : undefined;
}
