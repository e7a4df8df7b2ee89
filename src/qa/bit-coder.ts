/**
 * Exact arithmetic coding of a short sequence of bits under given
 * probabilities. The interval is kept as exact big integers (12 bits more
 * per symbol), so there is no renormalisation and no precision loss, and
 * the code is the shortest bit string whose dyadic interval lies inside the
 * final interval: at most ⌈Σ -log2 p⌉ + 1 bits, then padded to bytes. Meant
 * for messages of at most a few thousand answers.
 */

/** Probability resolution: P(1) becomes an integer out of 2^12. */
export const PROB_BITS = 12;
const ONE = 1 << PROB_BITS;

/** P(bit = 1) as the integer frequency both sides code with. */
export function quantize(p: number): number {
  if (!Number.isFinite(p)) return ONE / 2;
  return Math.min(ONE - 1, Math.max(1, Math.round(p * ONE)));
}

/** The cost in bits of coding `bits` under `p1` (quantized), before padding. */
export function idealBits(bits: readonly boolean[], p1: readonly number[]): number {
  return bits.reduce((s, b, i) => {
    const f = quantize(p1[i] ?? 0.5);
    return s - Math.log2((b ? f : ONE - f) / ONE);
  }, 0);
}

interface Interval {
  low: bigint;
  width: bigint;
  /** The interval is [low, low + width) / 2^scale. */
  scale: bigint;
}

function narrow(iv: Interval, bit: boolean, f: number): Interval {
  const F = BigInt(f);
  // 1 takes [0, f), 0 takes [f, ONE).
  return {
    low: (iv.low << BigInt(PROB_BITS)) + (bit ? 0n : iv.width * F),
    width: iv.width * (bit ? F : BigInt(ONE - f)),
    scale: iv.scale + BigInt(PROB_BITS),
  };
}

/** Codes `bits`, bit i having P(1) = p1[i]. */
export function encodeBits(bits: readonly boolean[], p1: readonly number[]): Uint8Array {
  if (p1.length !== bits.length) throw new RangeError("one probability per bit is needed");
  let iv: Interval = { low: 0n, width: 1n, scale: 0n };
  bits.forEach((b, i) => {
    iv = narrow(iv, b, quantize(p1[i] as number));
  });
  // Shortest k with a v such that [v, v+1) / 2^k ⊆ [low, low+width) / 2^scale;
  // k = scale always works (v = low, width >= 1).
  const high = iv.low + iv.width;
  let k = 0n;
  let v = iv.low;
  for (; k <= iv.scale; k++) {
    const unit = 1n << (iv.scale - k);
    v = (iv.low + unit - 1n) / unit;
    if ((v + 1n) * unit <= high) break;
  }
  const nBytes = Number((k + 7n) / 8n);
  const out = new Uint8Array(nBytes);
  const padded = v << (BigInt(nBytes * 8) - k);
  for (let i = 0; i < nBytes; i++) out[i] = Number((padded >> BigInt((nBytes - 1 - i) * 8)) & 0xffn);
  return out;
}

/**
 * Decodes bits one at a time, each with the probability the caller learns
 * only after the previous bits (the protocol's P(yes) depends on the
 * answers so far).
 */
export class BitDecoder {
  private iv: Interval = { low: 0n, width: 1n, scale: 0n };
  private readonly x: bigint;
  private readonly xBits: bigint;

  constructor(code: Uint8Array) {
    let x = 0n;
    for (const b of code) x = (x << 8n) | BigInt(b);
    this.x = x;
    this.xBits = BigInt(code.length * 8);
  }

  next(p1: number): boolean {
    const f = quantize(p1);
    const yes = narrow(this.iv, true, f);
    // x / 2^xBits < (yes.low + yes.width) / 2^yes.scale ⇔ the bit is 1.
    const bit = this.x << yes.scale < (yes.low + yes.width) << this.xBits;
    this.iv = bit ? yes : narrow(this.iv, false, f);
    return bit;
  }
}
