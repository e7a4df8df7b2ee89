import { describeAdapterSet } from "../codec/adapter-files.js";
import type { CompressStats } from "../codec/compress.js";
import { groupDigits } from "../util/bytes.js";

/** `notes.txt: 12,345 -> 2,345 bytes (1.520 bits/byte, 81.0% saved) in 3.2 s, 1,234 tok/s` */
export function describeRatio(label: string, before: number, after: number, seconds: number, stats?: CompressStats): string {
  const bpb = before > 0 ? ((after * 8) / before).toFixed(3) : "-";
  const saved = before > 0 ? `${(100 * (1 - after / before)).toFixed(1)}% saved` : "empty";
  const rate = stats?.lanes && stats.encodeSeconds > 0 ? `, ${groupDigits(Math.round(stats.lanes.tokens / stats.encodeSeconds))} tok/s` : "";
  const how =
    stats?.gaveUpAtStep !== undefined
      ? ` [brotli/stored: the model coded worse than brotli and was given up after ${groupDigits(stats.gaveUpAtStep)} steps]`
      : stats && stats.method === "plain"
        ? " [brotli/stored: the model did not help]"
        : "";
  return `${label}: ${groupDigits(before)} -> ${groupDigits(after)} bytes (${bpb} bits/byte, ${saved}) in ${seconds.toFixed(1)} s${rate}${how}`;
}

/** `mixed.txt: adapters chosen per chunk (trial 256 tokens, 1.2 s): none 3 chunks 1,234 B, legal.gguf 5 chunks 20,000 B` */
export function describeAdapterChoice(label: string, stats: CompressStats): string {
  const trial = stats.adapterTrial;
  const uses = stats.streams.map((s) => `${describeAdapterSet(s.adapters)} ${s.chunks} chunk${s.chunks === 1 ? "" : "s"} ${groupDigits(s.bytes)} B`);
  const how = trial ? ` (trial ${trial.trialTokens} tokens, ${trial.seconds.toFixed(1)} s)` : "";
  return `${label}: adapters chosen per chunk${how}: ${uses.length ? uses.join(", ") : "none (brotli/stored)"}`;
}
