// Builds the native engine addon against node-llama-cpp's prebuilt llama.cpp
// libraries. One addon per available backend package (cpu always; cuda and
// vulkan when their packages are installed), because each package ships its
// own libllama with its own soname.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const quiet = process.argv.includes("--quiet");

function log(msg) {
  if (!quiet) process.stderr.write(`[llmzip native] ${msg}\n`);
}

// Walks up node_modules folders like Node's resolver does; require.resolve
// cannot be used because some packages do not export package.json.
function packageDir(name) {
  for (let dir = here; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Extracts llama.h and the ggml headers of the exact release the prebuilt libraries came from. */
function extractHeaders(nlcDir, dest) {
  const bundle = path.join(nlcDir, "llama", "gitRelease.bundle");
  const stamp = path.join(dest, ".bundle-stamp");
  const bundleStat = fs.statSync(bundle);
  const want = `${bundleStat.size}:${bundleStat.mtimeMs}`;
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) return;
  const gitDir = fs.mkdtempSync(path.join(here, ".bundle-"));
  try {
    const git = (...args) => execFileSync("git", ["--git-dir", gitDir, ...args], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
    git("init", "-q", "--bare");
    git("fetch", "-q", bundle, "HEAD:refs/heads/release");
    const files = git("ls-tree", "-r", "--name-only", "release", "--", "include", "ggml/include").toString().split("\n").filter((f) => f.endsWith(".h"));
    if (!files.includes("include/llama.h")) throw new Error("llama.h not found in node-llama-cpp's release bundle");
    fs.rmSync(dest, { recursive: true, force: true });
    for (const f of files) {
      const out = path.join(dest, f);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, git("show", `release:${f}`));
    }
    fs.writeFileSync(stamp, want);
  } finally {
    fs.rmSync(gitDir, { recursive: true, force: true });
  }
}

function findLib(dir, re) {
  const hit = fs.readdirSync(dir).find((f) => re.test(f));
  if (!hit) throw new Error(`no library matching ${re} in ${dir}`);
  return hit;
}

function gypFile(variant, binsDir, includeDir, outDir) {
  const llama = findLib(binsDir, /^libllama(\.[a-z]+)?\.v[\d.]+\.so$/);
  const ggml = findLib(binsDir, /^libggml(\.[a-z]+)?\.v[\d.]+\.so$/);
  const rel = path.relative(path.join(outDir, "Release"), binsDir);
  const napiDir = packageDir("node-addon-api");
  const sources = fs.readdirSync(path.join(here, "src")).filter((f) => f.endsWith(".cc")).map((f) => path.relative(path.dirname(outDir), path.join(here, "src", f)));
  return {
    targets: [
      {
        target_name: `llmzip_${variant}`,
        sources,
        include_dirs: [napiDir, path.join(includeDir, "include"), path.join(includeDir, "ggml", "include"), path.join(here, "src")],
        defines: ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
        cflags_cc: ["-std=c++17", "-O2", "-fexceptions", "-ffp-contract=off", "-fno-fast-math", "-Wno-psabi"],
        "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
        libraries: [`-L${binsDir}`, `-l:${llama}`, `-l:${ggml}`, "-l:libggml-base.so", `-Wl,-rpath,'$$ORIGIN/${rel}'`, `-Wl,-rpath,${binsDir}`],
      },
    ],
  };
}

const VARIANTS = [
  { variant: "cpu", pkg: "@node-llama-cpp/linux-x64", bins: "linux-x64", required: true },
  { variant: "cuda", pkg: "@node-llama-cpp/linux-x64-cuda", bins: "linux-x64-cuda", required: false },
  { variant: "vulkan", pkg: "@node-llama-cpp/linux-x64-vulkan", bins: "linux-x64-vulkan", required: false },
];

function nodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDir = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  const candidates = [path.join(npmDir, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error("node-gyp not found (it ships with npm); set npm_config_node_gyp to its path");
}

// node-gyp downloads headers unless told where they are; offline machines
// (and CI here) have them beside the node binary.
function nodeDirArgs() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && fs.existsSync(path.join(fromNpm, "include", "node", "node_api.h"))) return [`--nodedir=${fromNpm}`];
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  if (fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))) return [`--nodedir=${prefix}`];
  return [];
}

function main() {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`llmzip's native engine is built for linux-x64 only so far (this is ${process.platform}-${process.arch})`);
  }
  const nlcDir = packageDir("node-llama-cpp");
  if (!nlcDir) throw new Error("node-llama-cpp is not installed; run npm ci first");
  const includeDir = path.join(here, "include-llama");
  extractHeaders(nlcDir, includeDir);
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
  const built = [];
  for (const v of VARIANTS) {
    if (only && v.variant !== only) continue;
    const pkgDir = packageDir(v.pkg);
    const binsDir = pkgDir && path.join(pkgDir, "bins", v.bins);
    if (!binsDir || !fs.existsSync(binsDir)) {
      if (v.required) throw new Error(`${v.pkg} is not installed; run npm ci`);
      log(`${v.variant}: skipped (${v.pkg} not installed)`);
      continue;
    }
    const outDir = path.join(here, "build", v.variant);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "binding.gyp"), JSON.stringify(gypFile(v.variant, binsDir, includeDir, path.join(outDir, "build")), null, 2));
    log(`${v.variant}: building against ${binsDir}`);
    try {
      execFileSync(process.execPath, [nodeGyp(), "rebuild", "--silent", ...nodeDirArgs(), "--directory", outDir], { stdio: quiet ? "pipe" : "inherit" });
      built.push(v.variant);
    } catch (e) {
      if (v.required) throw e;
      log(`${v.variant}: build failed, that backend will be unavailable (${e.message.split("\n")[0]})`);
    }
  }
  log(`built: ${built.join(", ") || "nothing"}`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`llmzip: native build failed: ${e.message}\n`);
  process.exit(1);
}
