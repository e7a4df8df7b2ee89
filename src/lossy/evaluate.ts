/**
 * The information a lossy archive keeps about a given original: decodes
 * the rewrite with the archive's coding model, then measures with the same
 * model (what `llmzip info --original` and benchmarks report).
 */
import { parseHeader } from "../container/format.js";
import { decompress } from "../codec/decompress.js";
import type { DecompressOptions } from "../codec/options.js";
import { LlamaEngine } from "../engine/engine.js";
import type { Backend } from "../engine/locate.js";
import { MismatchError, ModelError, UsageError } from "../errors.js";
import { lossyInfo, shortSha256 } from "./archive.js";
import { measureInformation, type InformationReport } from "./information.js";
import { alignWords } from "./prune.js";

export interface ArchiveInformation extends InformationReport {
  /** Size of the whole archive in bits, to set beside the information it keeps. */
  compressedBits: number;
  /** informationBits / compressedBits: how much of what is stored tells about the original. */
  informationPerCompressedBit: number;
}

export interface ArchiveInformationOptions extends Pick<DecompressOptions, "locateModel"> {
  /** The coding model (required when the archive was coded with none, else it must be the archive's). */
  model?: string;
  engine?: LlamaEngine;
  threads?: number;
  verbose?: boolean;
  signal?: AbortSignal;
}

/** Adds the compressed size to a measurement. */
export function withCompressedSize(report: InformationReport, archiveBytes: number): ArchiveInformation {
  const compressedBits = archiveBytes * 8;
  return { ...report, compressedBits, informationPerCompressedBit: compressedBits > 0 ? report.informationBits / compressedBits : 0 };
}

/** Measures what a lossy archive keeps about `original`, which must be the file it was made from. */
export async function informationOfArchive(archive: Uint8Array, original: Uint8Array, opts: ArchiveInformationOptions): Promise<ArchiveInformation> {
  const { header } = parseHeader(archive);
  const lossy = lossyInfo(header);
  if (!lossy) throw new UsageError("the information measure is for lossy archives (this one is lossless: it keeps everything)");
  if (original.length !== lossy.originalBytes || (lossy.originalSha256 && shortSha256(original) !== lossy.originalSha256)) {
    throw new MismatchError(`the given original is not the file this archive was made from (${original.length} bytes, the archive's original has ${lossy.originalBytes} and another sha256)`);
  }
  const modelPath = opts.engine?.modelPath ?? opts.model ?? (header.model ? await opts.locateModel?.(header.model) : undefined);
  if (!modelPath) throw new ModelError("measuring information needs the coding model: pass -m PATH or set LLMZIP_MODEL");
  const backend = (header.settings?.backend ?? "cpu") as Backend;
  // The archive's kernels, as decompress uses them: other kernels give other logits.
  const cpuKernels = header.settings ? header.settings.cpuVariant || "auto" : undefined;
  const engine = opts.engine ?? LlamaEngine.openOn(modelPath, backend, { threads: opts.threads, verbose: opts.verbose, cpuKernels });
  try {
    const { data: rewrite } = await decompress(archive, { engine, signal: opts.signal });
    // A pruned text's words are the original's: each piece reads the window around its own kept words.
    const align = lossy.method === "prune" ? alignWords(rewrite, original) : undefined;
    const report = await measureInformation(original, rewrite, { engine, ctx: header.settings?.ctx, signal: opts.signal, align });
    return withCompressedSize(report, archive.length);
  } finally {
    if (!opts.engine) engine.close();
  }
}
