import { spawnSync } from "node:child_process";
import { bin } from "./cli.js";

/** Loaded before the CLI: reports the process's peak resident memory on stderr as it exits. */
const HOOK = `data:text/javascript,process.on("exit",()=>process.stderr.write("\\nllmzip-peak-rss="+process.resourceUsage().maxRSS*1024+"\\n"))`;

export interface MeasuredRun {
  status: number | null;
  stdout: Buffer;
  /** stderr without the measurement line. */
  stderr: string;
  /** Peak resident set size of the CLI process, in bytes. */
  peakRss: number;
  seconds: number;
}

/** Runs the real CLI and measures its peak memory (getrusage of the child itself). */
export function llmzipMeasured(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): MeasuredRun {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", HOOK, bin, ...args], { env: { ...process.env, ...opts.env }, input: opts.input, maxBuffer: 1 << 30 });
  const err = r.stderr.toString();
  const m = /\nllmzip-peak-rss=(\d+)\n/.exec(err);
  if (!m) throw new Error(`no memory report from the CLI: ${err}`);
  return { status: r.status, stdout: r.stdout, stderr: err.replace(m[0], ""), peakRss: Number(m[1]), seconds: (performance.now() - t0) / 1000 };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
