import os from "node:os";
import type { MachineSummary } from "./report.js";

/** The machine a run is measured on, for reports. */
export function describeMachine(): MachineSummary {
  return {
    cpu: os.cpus()[0]?.model?.trim() || os.arch(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}
