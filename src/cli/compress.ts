import type { Command } from "commander";
import { compress } from "../codec/compress.js";
import type { CompressOptions } from "../codec/options.js";
import { compressLossy, compressPruned } from "../lossy/compress.js";
import type { GpuMode } from "../engine/engine.js";
import { runFileJobs, type FileJob, type FileJobFlags } from "./file-jobs.js";
import { makeReporter } from "./output.js";
import { addCodingOptions, codingChoices, type CodingFlags } from "./coding-options.js";
import { addLossyOptions, describeLossy, describePruned, openLossy, pruneSetup, type LossyFlags } from "./lossy.js";
import { addFileCommand } from "./options.js";
import { LiveLine } from "./live-line.js";
import { ModelStore } from "../models/model-store.js";
import { modelForCompress } from "./resolve-model.js";
import { describeAdapterChoice, describeRatio } from "./summary.js";

interface CompressFlags extends FileJobFlags, CodingFlags, LossyFlags {
  model?: string;
  gpu: GpuMode;
  verify?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export const SUFFIX = ".llmz";

export function register(program: Command): void {
  const cmd = addFileCommand(program, "compress", "c", "compress files (or stdin) into .llmz archives", "files to compress; none or - reads stdin and writes stdout");
  addCodingOptions(cmd)
    .option("--verify", "decode the archive in the same run and compare before writing it");
  addLossyOptions(cmd)
    .addHelpText(
      "after",
      `
Examples:
  llmzip compress notes.txt                      writes notes.txt.llmz with the shipped model
  llmzip compress -m model.gguf notes.txt        any other GGUF model
  llmzip compress -m smollm2-135m notes.txt      a model pulled with 'llmzip models pull'
  LLMZIP_MODEL=model.gguf llmzip c a.txt b.txt   one archive per file
  cat log.txt | llmzip c -m model.gguf > log.llmz
  llmzip compress --verify --rm notes.txt        keep only the verified archive
  llmzip compress --no-mix notes.txt             the bare model only (no context mixing)
  llmzip c -m m.gguf --adapter legal.gguf:0.8 contract.txt
  llmzip c -m m.gguf --adapter auto --adapters-dir adapters/ mixed.txt
                                                 per chunk: no adapter or the best one
  llmzip c --lossy --prune 0.5 -m model.gguf article.txt
                                                 keep the less predictable half of the tokens
  llmzip c --lossy --rewriter qwen-instruct.gguf -m model.gguf article.txt
  LLMZIP_API_KEY=... llmzip c --lossy --rewriter-url http://127.0.0.1:8080/v1 --rewriter-model qwen -m model.gguf article.txt`,
    )
    .action(async (files: string[], flags: CompressFlags) => {
      const rep = makeReporter(flags);
      const store = new ModelStore();
      const verify = Boolean(flags.verify || flags.rm);
      const coding = codingChoices(flags);
      // Resolved once, on the first input that needs it (an empty input needs no
      // model); with --lossy before the rewriter loads, so that a missing -m fails fast.
      const prune = pruneSetup(flags, true);
      let model: string | undefined = flags.lossy ? modelForCompress(store, flags.model) : undefined;
      const lossy = await openLossy(flags);
      const job: FileJob = {
        outputName: (input) => `${input}${SUFFIX}`,
        transform: async (data, label, signal) => {
          model ??= modelForCompress(store, flags.model);
          const bar = new LiveLine(label, rep);
          const t0 = performance.now();
          const options: CompressOptions = {
            model,
            ...coding,
            verify,
            signal,
            verbose: flags.verbose,
            onProgress: (p) => bar.progress(p),
            onWarning: (m) => rep.warn(m),
          };
          try {
            if (prune) {
              const result = await compressPruned(data, {
                ...options,
                keep: prune.keeps[0] as number,
                policy: prune.policy,
                onScore: (done, total) => bar.progress({ phase: "score", done, total }),
              });
              bar.stop();
              if (process.stderr.isTTY || rep.verbose) rep.info(describePruned(label, result, (performance.now() - t0) / 1000));
              return result.archive;
            }
            if (lossy) {
              const result = await compressLossy(data, { ...options, ...lossy, onSection: (done, total) => bar.progress({ phase: "rewrite", unit: "sections", done, total }) });
              bar.stop();
              if (result.lossy.truncatedSections > 0) rep.warn(`${label}: ${result.lossy.truncatedSections} of ${result.lossy.sections} rewritten sections were cut at the rewriter's length limit`);
              if (process.stderr.isTTY || rep.verbose) rep.info(describeLossy(label, result, (performance.now() - t0) / 1000));
              return result.archive;
            }
            const { archive, stats } = await compress(data, options);
            bar.stop();
            if (process.stderr.isTTY || rep.verbose) {
              rep.info(describeRatio(label, data.length, archive.length, (performance.now() - t0) / 1000, stats));
              if (stats.adapterTrial) rep.info(describeAdapterChoice(label, stats));
            }
            return archive;
          } finally {
            bar.stop();
          }
        },
      };
      try {
        process.exitCode = await runFileJobs(files, flags, job, rep);
      } finally {
        await lossy?.rewriter.close();
      }
    });
}
