import path from "node:path";
import type { Command } from "commander";
import { decompress } from "../codec/decompress.js";
import type { GpuMode } from "../engine/engine.js";
import { UsageError } from "../errors.js";
import { SUFFIX } from "./compress.js";
import { runFileJobs, type FileJobFlags } from "./file-jobs.js";
import { makeReporter } from "./output.js";
import { addAdapterOptions, decompressAdapterOptions, type AdapterFlags } from "./adapter-options.js";
import { addFileCommand, gpuOption } from "./options.js";
import { LiveLine } from "./live-line.js";
import { ModelStore } from "../models/model-store.js";
import { modelForDecompress } from "./resolve-model.js";
import { lossyInfo } from "../lossy/archive.js";
import { lossyNote } from "./lossy.js";

interface DecompressFlags extends FileJobFlags, AdapterFlags {
  model?: string;
  gpu?: GpuMode;
  threads?: number;
  quiet?: boolean;
  verbose?: boolean;
}

export function register(program: Command): void {
  const cmd = addFileCommand(program, "decompress", "d", "restore files from .llmz archives", "archives to decompress; none or - reads stdin and writes stdout");
  addAdapterOptions(cmd, "match")
    .addOption(gpuOption("where the model runs; the archive fixes the backend (default: the archive's)").default(undefined))
    .addHelpText(
      "after",
      `
Examples:
  llmzip decompress notes.txt.llmz                 finds the model by its sha256
  llmzip decompress -m model.gguf notes.txt.llmz   writes notes.txt
  llmzip d -c notes.txt.llmz | less                to standard output
  llmzip d -o copy.txt notes.txt.llmz
  llmzip d -m m.gguf --adapter legal.gguf contract.txt.llmz
  LLMZIP_ADAPTERS=~/adapters llmzip d -m m.gguf mixed.txt.llmz   adapters found by fingerprint`,
    )
    .action(async (files: string[], flags: DecompressFlags) => {
      const rep = makeReporter(flags);
      const store = new ModelStore();
      const adapterOptions = decompressAdapterOptions(flags);
      const model = modelForDecompress(store, flags.model);
      process.exitCode = await runFileJobs(
        files,
        flags,
        {
          outputName: (input) => {
            if (!input.endsWith(SUFFIX) || path.basename(input) === SUFFIX) throw new UsageError(`${input}: unknown suffix (expected ${SUFFIX}); use -o to name the output`);
            return input.slice(0, -SUFFIX.length);
          },
          transform: async (data, label, signal) => {
            const bar = new LiveLine(label, rep);
            try {
              const { data: out, header } = await decompress(data, {
                ...model,
                ...adapterOptions,
                threads: flags.threads,
                gpu: flags.gpu,
                signal,
                verbose: flags.verbose,
                onProgress: (p) => bar.progress(p),
                onWarning: (m) => rep.warn(m),
              });
              const lossy = lossyInfo(header);
              if (lossy) rep.info(lossyNote(label, lossy));
              return out;
            } finally {
              bar.stop();
            }
          },
        },
        rep,
      );
    });
}
