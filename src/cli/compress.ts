import type { Command } from "commander";
import { compress } from "../codec/compress.js";
import type { GpuMode } from "../engine/engine.js";
import { runFileJobs, type FileJobFlags } from "./file-jobs.js";
import { makeReporter } from "./output.js";
import { addAdapterOptions, compressAdapterOptions, type AdapterFlags } from "./adapter-options.js";
import { addEngineOptions, addOutputOptions, gpuOption, parsePositiveInt } from "./options.js";
import { ProgressBar } from "./progress.js";
import { modelForCompress } from "./resolve-model.js";
import { describeAdapterChoice, describeRatio } from "./summary.js";

interface CompressFlags extends FileJobFlags, AdapterFlags {
  model?: string;
  lanes?: number;
  ctx?: number;
  threads?: number;
  gpu: GpuMode;
  cpuKernels?: string;
  verify?: boolean;
  forceModel?: boolean;
  /** false with --no-mix. */
  mix: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export const SUFFIX = ".llmz";

export function register(program: Command): void {
  const cmd = program
    .command("compress")
    .alias("c")
    .description("compress files (or stdin) into .llmz archives")
    .argument("[files...]", "files to compress; none or - reads stdin and writes stdout");
  addOutputOptions(cmd);
  addEngineOptions(cmd);
  cmd
    .option("--lanes <n>", "sequences decoded in lockstep (default 16)", parsePositiveInt("--lanes", 256))
    .option("--ctx <n>", "tokens of context per lane (default: model's, at most 2048)", parsePositiveInt("--ctx"))
    .addOption(gpuOption())
    .option("--cpu-kernels <name>", "llama.cpp CPU kernels: haswell (AVX2, portable; default), auto (fastest here), zen4, skylakex, x64, ...");
  addAdapterOptions(cmd, "choose")
    .option("--verify", "decode the archive in the same run and compare before writing it")
    .option("--force-model", "code every representable chunk with the model, even where brotli is smaller")
    .option("--no-mix", "code with the bare model's probabilities, without mixing in context models learned from the text")
    .addHelpText(
      "after",
      `
Examples:
  llmzip compress -m model.gguf notes.txt        writes notes.txt.llmz
  llmzip compress -m smollm2-135m notes.txt      a model pulled with 'llmzip models pull'
  LLMZIP_MODEL=model.gguf llmzip c a.txt b.txt   one archive per file
  cat log.txt | llmzip c -m model.gguf > log.llmz
  llmzip compress --verify --rm notes.txt        keep only the verified archive
  llmzip compress --no-mix notes.txt             the bare model only (no context mixing)
  llmzip c -m m.gguf --adapter legal.gguf:0.8 contract.txt
  llmzip c -m m.gguf --adapter auto --adapters-dir adapters/ mixed.txt
                                                 per chunk: no adapter or the best one`,
    )
    .action(async (files: string[], flags: CompressFlags) => {
      const rep = makeReporter(flags);
      const verify = Boolean(flags.verify || flags.rm);
      const adapterOptions = compressAdapterOptions(flags);
      // Resolved once, on the first input that needs it (an empty input needs no model).
      let model: string | undefined;
      process.exitCode = await runFileJobs(
        files,
        flags,
        {
          outputName: (input) => `${input}${SUFFIX}`,
          transform: async (data, label, signal) => {
            model ??= modelForCompress(flags.model);
            const bar = new ProgressBar(label, rep);
            const t0 = performance.now();
            try {
              const { archive, stats } = await compress(data, {
                model,
                lanes: flags.lanes,
                ctx: flags.ctx,
                threads: flags.threads,
                gpu: flags.gpu,
                ...adapterOptions,
                cpuKernels: flags.cpuKernels,
                verify,
                forceModel: flags.forceModel,
                mix: flags.mix,
                signal,
                verbose: flags.verbose,
                onProgress: (p) => bar.update(p),
                onWarning: (m) => rep.warn(m),
              });
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
        },
        rep,
      );
    });
}
