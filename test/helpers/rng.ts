import { seededRandom } from "../../src/util/random.js";
export type Rng = () => number;

/** Deterministic PRNG (the product's mulberry32) so that failures reproduce from their seed. */
export const rng: (seed: number) => Rng = seededRandom;

/** Draws a token from a row of logits, as a model's own text would. */
export function sample(row: Float32Array, r: Rng): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  let u = r() * sum;
  for (let i = 0; i < row.length; i++) {
    u -= Math.exp((row[i] as number) - max);
    if (u <= 0) return i;
  }
  return row.length - 1;
}
