/**
 * The coding contract: every setting that decides whether an archive can be
 * decoded, and the defaults and limits new archives are made with. The
 * container only checks that a header is well formed; this module is where
 * llmzip decides what it codes and what it can decode. Changing a value here
 * changes which archives decode: old archives must keep decoding.
 */
import type { Backend } from "../engine/locate.js";

/** Settings shared by every lane context of this build: fixed so that archives stay decodable. */
export const FIXED_LANE_SETTINGS = { flashAttention: false, kvType: "f16" } as const;

/** Bits of the integer frequency tables (their total is 2^FREQ_BITS); the native coder builds only these. */
export const FREQ_BITS = 31;

/** The context-mixing configuration new archives use (settings.mixer; 0 = off). */
export const DEFAULT_MIXER = 4;
/** Every configuration this build decodes; ids never change meaning. */
export const KNOWN_MIXERS: readonly number[] = [0, 1, 2, 3, 4];

/** Tokens of context per lane when none is asked for (less when the model's own context is smaller). */
export const DEFAULT_MAX_CTX = 2048;
/** Fewest tokens of context per lane the engine runs with. */
export const MIN_CTX = 2;

/** Most lanes compress accepts; a header asking for more is not one llmzip wrote. */
export const MAX_LANES = 256;

/**
 * Lanes when none are asked for. On the CPU, 8 measured fastest (synth58M
 * Q8_0, 2 threads, ctx 256 and 1024: some 10% ahead of 16; stories260K is flat
 * from 4 to 32). On a GPU an extra row in the batch costs almost nothing, so
 * more lanes pay there (16; not measured on this project's machines).
 */
export function defaultLanes(backend: Backend): number {
  return backend === "cpu" ? 8 : 16;
}

/**
 * Largest context per lane for a model trained on `modelContext` tokens: its
 * own context, and never less than the default. The decoder holds archives to
 * the same limit, so a forged header cannot make it allocate a KV cache the
 * compressor would have refused.
 */
export function maxContext(modelContext: number): number {
  return Math.max(modelContext, DEFAULT_MAX_CTX);
}

/** The context size compress uses when none is asked for: the model's own, at most {@link DEFAULT_MAX_CTX}. */
export function defaultContext(modelContext: number): number {
  return Math.min(modelContext || DEFAULT_MAX_CTX, DEFAULT_MAX_CTX);
}
