/** "llmzip/bench": the pieces `llmzip bench` is made of, for benchmarks from code. */
export { runBench, computeTotals, type BenchOptions, type BenchProgress, type BenchHooks } from "./run.js";
export { expandInputs, type BenchInput } from "./inputs.js";
export { parseCheck, evaluateChecks, METRICS, type Check, type Metric } from "./check.js";
export { BASELINE_NAMES, parseBaselineList, type BaselineName } from "./baselines.js";
export { renderTable } from "./table.js";
export { renderMarkdown, renderBpbTable, describeSetting } from "./markdown.js";
export { renderChart } from "./chart.js";
export { compareReports, asSavedReport, comparisonFailures, parseMaxRegression, DEFAULT_MAX_REGRESSION_PCT } from "./compare.js";
export { renderJunit } from "./junit.js";
export type * from "./report.js";
export { runPruneBench, pruneTotals, type PruneBenchOptions, type PruneBenchReport, type PruneFileResult, type PruneRun } from "./prune.js";
export { renderPruneTable, renderPruneChart } from "./prune-report.js";
