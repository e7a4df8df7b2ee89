import { InvalidArgumentError, type Command } from "commander";
import { pickCodingChoices, type CodingChoices } from "../codec/options.js";
import { DEFAULT_MAX_CTX, DEFAULT_MIXER, KNOWN_MIXERS, MAX_LANES } from "../codec/settings.js";
import { addAdapterOptions, compressAdapterOptions, type AdapterFlags } from "./adapter-options.js";
import { gpuOption, parsePositiveInt } from "./options.js";

/** The options that shape a model run (lanes, context, backend, kernels, adapters, mixing), shared by compress and bench. */
export function addCodingOptions(cmd: Command): Command {
  cmd
    .option("--lanes <n>", "sequences decoded in lockstep (default 8 on the CPU, 16 on a GPU)", parsePositiveInt("--lanes", MAX_LANES))
    .option("--ctx <n>", `tokens of context per lane (default: model's, at most ${DEFAULT_MAX_CTX})`, parsePositiveInt("--ctx"))
    .addOption(gpuOption())
    .option("--cpu-kernels <name>", "llama.cpp CPU kernels: haswell (AVX2, portable; default), auto (fastest here), zen4, skylakex, x64, ...");
  return addAdapterOptions(cmd, "choose")
    .option("--force-model", "code every representable chunk with the model, even where brotli is smaller")
    .option("--no-mix", "code with the bare model's probabilities, without mixing in context models learned from the text")
    .option("--mixer <id>", `context-mixing configuration: ${KNOWN_MIXERS.filter((m) => m !== 0).join(" or ")} (default ${DEFAULT_MIXER})`, parseMixer);
}

function parseMixer(v: string): number {
  const id = Number(v);
  if (!Number.isInteger(id) || id === 0 || !KNOWN_MIXERS.includes(id)) throw new InvalidArgumentError(`--mixer: one of ${KNOWN_MIXERS.filter((m) => m !== 0).join(", ")}`);
  return id;
}

/** The flags {@link addCodingOptions} adds, as commander parses them. */
export interface CodingFlags extends AdapterFlags, Omit<CodingChoices, "adapters" | "adapterChoice"> {}

/** The library's coding choices from the flags: one copy for compress and bench. */
export function codingChoices(flags: CodingFlags): CodingChoices {
  return { ...pickCodingChoices(flags), ...compressAdapterOptions(flags) };
}
