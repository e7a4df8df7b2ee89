import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { BenchReport } from "../src/bench/report.js";
import { llmzip, tempDir } from "./helpers/cli.js";
import { checkJunit } from "./helpers/junit.js";
import { corpusPath, modelPath, repoRoot } from "./helpers/shared.js";

// Real runs of `llmzip bench` on two small files with the tiny model: a saved
// report, an unchanged rerun, a coding change that makes archives grow
// (a 64-token context: the tiny model then predicts worse; --no-mix does not
// serve, since with this model mixing costs a little on these files), and an
// edited input.
const model = modelPath("stories260K.gguf");
const common = ["bench", "-m", model, "--threads", "1", "--baselines", "gzip,zpaq", "-q"];

describe("bench against a saved report", () => {
  let dir: string;
  let inputs: string[];
  let savedPath: string;
  let saved: BenchReport;

  beforeAll(() => {
    dir = tempDir();
    inputs = [path.join(dir, "story.txt"), path.join(dir, "gettysburg.txt")];
    fs.copyFileSync(path.join(repoRoot, "bench", "fixtures", "story.txt"), inputs[0]!);
    fs.copyFileSync(corpusPath("misc/gettysburg.txt"), inputs[1]!);
    savedPath = path.join(dir, "saved.json");
    const r = llmzip([...common, "--json", ...inputs]);
    expect(r.status, r.stderr.toString()).toBe(0);
    fs.writeFileSync(savedPath, r.stdout);
    saved = JSON.parse(r.stdout.toString()) as BenchReport;
  });

  it("saves content hashes, and an unchanged rerun passes with every file the same", async () => {
    expect(saved.files.map((f) => f.sha256)).toEqual(inputs.map((f) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex")));
    const junit = path.join(dir, "same.xml");
    const r = llmzip([...common, "--json", "--baseline-report", savedPath, "--junit", junit, ...inputs]);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toBe("");
    const now = JSON.parse(r.stdout.toString()) as BenchReport;
    expect(now.comparison?.files.map((f) => `${f.file}:${f.status}`)).toEqual(["story.txt:same", "gettysburg.txt:same"]);
    expect(now.comparison?.passed).toBe(true);
    expect(now.passed).toBe(true);
    // roundTrip + comparison suites, a case per file each, none failed.
    const { counts } = await checkJunit(fs.readFileSync(junit, "utf8"));
    expect(counts).toEqual({ tests: 4, failures: 0, errors: 0, skipped: 0 });
  });

  it("fails (exit 1) naming each file whose archive grew, with the numbers, in stderr, JSON, table, markdown and JUnit", async () => {
    const junit = path.join(dir, "ctx64.xml");
    const md = path.join(dir, "ctx64.md");
    const summary = path.join(dir, "summary.md");
    fs.writeFileSync(summary, "earlier step\n");
    const r = llmzip([...common, "--ctx", "64", "--json", "--baseline-report", savedPath, "--junit", junit, "--markdown", md, ...inputs], { env: { GITHUB_STEP_SUMMARY: summary } });
    const now = JSON.parse(r.stdout.toString()) as BenchReport;
    const sizes = new Map(saved.files.map((f) => [f.file, f.llmzip.bytes]));
    // Which files grew follows from the two runs' own numbers; the full context must have helped at least one.
    const grew = now.files.filter((f) => f.llmzip.bytes > (sizes.get(f.file) ?? Infinity) * 1.01).map((f) => f.file);
    expect(grew).toContain("story.txt");
    expect(r.status).toBe(1);
    const lines = r.stderr.toString().trimEnd().split("\n");
    expect(lines).toEqual(grew.map((f) => expect.stringMatching(new RegExp(`^llmzip: regression: ${f.replace(".", "\\.")}: archive grew \\+\\d+\\.\\d\\d% \\(${sizes.get(f)} -> \\d+ bytes; allowed \\+1%\\)$`))));
    expect(now.comparison?.files.filter((f) => f.status === "regression").map((f) => f.file)).toEqual(grew);
    expect(now.passed).toBe(false);
    for (const f of grew) expect(fs.readFileSync(md, "utf8")).toMatch(new RegExp(`^\\| ${f.replace(".", "\\.")} \\| .*REGRESSION\\*\\* \\|$`, "m"));
    // The job summary got the same report appended after what was there.
    const appended = fs.readFileSync(summary, "utf8");
    expect(appended.startsWith("earlier step\n# llmzip benchmark")).toBe(true);
    expect(appended).toMatch(/## Against the saved report/);
    const { counts, cases } = await checkJunit(fs.readFileSync(junit, "utf8"));
    expect(counts).toEqual({ tests: 4, failures: grew.length, errors: 0, skipped: 0 });
    expect(cases.filter((c) => c.outcome === "failure").map((c) => c.name)).toEqual(grew);
    // A limit above the growth lets the same run pass.
    const loose = llmzip([...common, "--ctx", "64", "--baseline-report", savedPath, "--max-regression", "1000", ...inputs]);
    expect(loose.status, loose.stderr.toString()).toBe(0);
    expect(loose.stdout.toString()).toMatch(/vs saved/);
  });

  it("reports an edited input as changed, not as a regression", () => {
    const edited = path.join(tempDir(), "story.txt");
    // Twice the text: the archive grows a lot, but it is another input.
    fs.writeFileSync(edited, Buffer.concat([fs.readFileSync(inputs[0]!), fs.readFileSync(inputs[0]!)]));
    const r = llmzip([...common, "--json", "--baseline-report", savedPath, edited]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const now = JSON.parse(r.stdout.toString()) as BenchReport;
    expect(now.comparison?.files).toEqual([{ file: "story.txt", status: "changed", bytes: now.files[0]?.llmzip.bytes }]);
    expect(now.comparison?.missing).toEqual(["gettysburg.txt"]);
  });

  it("refuses a bad saved report in one line before benchmarking, writing nothing", () => {
    const junit = path.join(dir, "never.xml");
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, '{"tool":{"name":"llmzip"}}');
    for (const [file, message] of [
      [path.join(dir, "missing.json"), /missing\.json: no such file or directory/],
      [bad, /bad\.json: not an llmzip bench report \(no files list\)/],
      [inputs[0]!, /story\.txt: not JSON/],
    ] as const) {
      const r = llmzip([...common, "--baseline-report", file, "--junit", junit, ...inputs]);
      expect(r.status).toBe(1);
      expect(r.stdout.toString()).toBe("");
      const err = r.stderr.toString();
      expect(err.trimEnd().split("\n")).toHaveLength(1);
      expect(err).toMatch(message);
      expect(fs.existsSync(junit)).toBe(false);
    }
    const usage = llmzip([...common, "--max-regression", "2", ...inputs]);
    expect(usage.status).toBe(2);
    expect(usage.stderr.toString()).toMatch(/^llmzip: --max-regression needs --baseline-report\n$/);
  });
});
