import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { BenchReport } from "../src/bench/report.js";
import { tempDir } from "./helpers/cli.js";
import { checkJunit } from "./helpers/junit.js";
import { corpusPath, modelPath, repoRoot } from "./helpers/shared.js";

// The package as a user gets it: `npm pack`, installed from the tarball into
// empty prefixes (globally and as a project dependency; dependencies come from
// npm's cache where it has them), then the CI example in docs/ci run step by
// step on this machine with the installed llmzip.
const model = modelPath("stories260K.gguf");
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
const workflowFile = path.join(repoRoot, "docs", "ci", "github-actions.yml");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}

// An install unpacks ~700 MB and compiles the addon three times: about a minute
// on an idle 2-core machine, over ten when it is shared with a training run.
// spawnSync blocks vitest's own timer, so the limit is enforced here.
const STEP_LIMIT_MS = 20 * 60_000;

function sh(command: string, opts: { cwd: string; env: NodeJS.ProcessEnv; input?: Uint8Array }): SpawnSyncReturns<Buffer> {
  return spawnSync("bash", ["-eo", "pipefail", "-c", command], { cwd: opts.cwd, env: opts.env, input: opts.input, maxBuffer: 1 << 28, timeout: STEP_LIMIT_MS, killSignal: "SIGKILL" });
}

const output = (r: SpawnSyncReturns<Buffer>) => `${r.stdout.toString().slice(-2000)}\n${r.stderr.toString().slice(-4000)}`;

/** `nice` so that a build or an install in a test yields to whatever else the machine runs. */
const nice = (command: string) => `nice -n 10 ${command}`;

describe("the npm package and the CI example", { timeout: 2 * STEP_LIMIT_MS }, () => {
  let root: string;
  let tarball: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    root = tempDir("llmzip-pkg-");
    const packDir = path.join(root, "pack");
    fs.mkdirSync(packDir);
    const t0 = performance.now();
    // `npm pack` runs `prepare`, which builds dist/ from the sources being tested.
    const r = sh(nice(`npm pack --silent --pack-destination ${JSON.stringify(packDir)}`), { cwd: repoRoot, env: process.env });
    expect(r.status, output(r)).toBe(0);
    tarball = path.join(packDir, r.stdout.toString().trim().split("\n").pop() ?? "");
    console.log(`npm pack: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${fs.statSync(tarball).size} bytes`);
    prefix = path.join(root, "prefix");
    // Global installs go to the empty prefix, and its bin folder comes first on PATH.
    env = {
      ...process.env,
      npm_config_prefix: prefix,
      npm_config_prefer_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      PATH: `${path.join(prefix, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    };
  }, 300_000);

  it("packs the runtime only", () => {
    const list = spawnSync("tar", ["tzf", tarball]).stdout.toString().trim().split("\n").map((f) => f.replace(/^package\//, ""));
    for (const f of ["package.json", "README.md", "LICENSE", "bin/llmzip.js", "dist/cli/main.js", "dist/index.js", "dist/index.d.ts", "native/build.mjs", "native/src/addon.cc"]) expect(list).toContain(f);
    const allowed = /^(package\.json|README\.md|LICENSE|bin\/[^/]+\.js|dist\/.+\.(js|d\.ts)|native\/build\.mjs|native\/src\/[^/]+\.(cc|h)|models\/[^/]+\.(gguf|json|md)|docs\/(CI|CLI)\.md)$/;
    expect(list.filter((f) => !allowed.test(f))).toEqual([]);
    // No tests, fixtures, bench results, training tool, source maps or built addon.
    expect(list.filter((f) => /^(test|fixtures|bench|tools|src)\/|\.map$|\.node$|native\/build\//.test(f))).toEqual([]);
  });

  it("installs globally from the tarball into an empty prefix and round-trips a file through the installed llmzip", () => {
    const t0 = performance.now();
    const install = sh(nice(`npm install -g --allow-scripts=llmzip ${JSON.stringify(tarball)}`), { cwd: root, env });
    expect(install.status, output(install)).toBe(0);
    console.log(`npm install -g from the tarball: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const which = sh("command -v llmzip", { cwd: root, env });
    expect(which.stdout.toString().trim()).toBe(path.join(prefix, "bin", "llmzip"));
    expect(sh("llmzip --version", { cwd: root, env }).stdout.toString().trim()).toBe(pkg.version);
    // Text the model codes, then bytes it cannot: both must come back exactly.
    const data = Buffer.concat([fs.readFileSync(path.join(repoRoot, "bench", "fixtures", "story.txt")), Buffer.from([0, 255, 128, 10, 0xc3, 0x28])]);
    const work = path.join(root, "rt");
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, "in.txt"), data);
    const c = sh(`llmzip compress -m ${JSON.stringify(model)} --threads 1 in.txt`, { cwd: work, env });
    expect(c.status, output(c)).toBe(0);
    fs.renameSync(path.join(work, "in.txt"), path.join(work, "original.txt"));
    const d = sh(`llmzip decompress -m ${JSON.stringify(model)} --threads 1 in.txt.llmz`, { cwd: work, env });
    expect(d.status, output(d)).toBe(0);
    expect(fs.statSync(path.join(work, "in.txt.llmz")).size).toBeLessThan(data.length / 2);
    expect(Buffer.compare(fs.readFileSync(path.join(work, "in.txt")), data)).toBe(0);
  });

  it("runs the GitHub Actions example's commands: bench, saved report, JUnit, job summary, artefacts", async () => {
    const wf = parseYaml(fs.readFileSync(workflowFile, "utf8")) as { env: Record<string, string>; jobs: Record<string, { steps: Step[] }> };
    const steps = wf.jobs.bench?.steps ?? [];
    const uses = (action: string) => steps.filter((s) => s.uses?.startsWith(`${action}@`));
    // What the runner does with `uses:` steps is GitHub's; check that they ask for the right things.
    expect(uses("actions/cache").map((s) => s.with?.path)).toEqual(["${{ env.LLMZIP_HOME }}", ".llmzip-report"]);
    const artefacts = uses("actions/upload-artifact")[0]?.with?.path.trim().split("\n") ?? [];
    expect(artefacts).toEqual(expect.arrayContaining(["bench-out/report.json", "bench-out/report.svg"]));
    expect(wf.env.LLMZIP_PACKAGE).toBe("llmzip");

    // A checkout with a corpus; the workflow's env with this machine's values.
    const work = path.join(root, "checkout");
    fs.mkdirSync(path.join(work, "corpus"), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "bench", "fixtures", "story.txt"), path.join(work, "corpus", "story.txt"));
    fs.copyFileSync(corpusPath("misc/gettysburg.txt"), path.join(work, "corpus", "gettysburg.txt"));
    const summary = path.join(root, "step-summary.md");
    const runEnv: NodeJS.ProcessEnv = {
      ...env,
      ...wf.env,
      LLMZIP_PACKAGE: tarball,
      LLMZIP_HOME: path.join(root, "llmzip-home"),
      // The tiny test model stands in for the shipped default model.
      LLMZIP_MODEL: model,
      LLMZIP_BENCH_FLAGS: "--threads 1",
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_REF: "refs/heads/main",
    };
    const runSteps = steps.filter((s) => s.run !== undefined);
    expect(runSteps.map((s) => s.name)).toEqual(["Install the baseline compressors", "Install llmzip", "Bench against the last saved report", "Keep this report for the next runs"]);
    // Installing Debian packages needs root on a runner; here zpaq must already be there.
    expect(runSteps[0]?.run).toMatch(/apt-get install .*zpaq/);
    expect(sh("command -v zpaq", { cwd: work, env: runEnv }).status, "zpaq is not installed here").toBe(0);

    const runWorkflow = (from: number) => {
      for (const step of runSteps.slice(from)) {
        // The only condition in the example: this run stands for a push to main.
        if (step.if !== undefined) expect(step.if).toBe("github.ref == 'refs/heads/main'");
        const r = sh(step.run ?? "", { cwd: work, env: runEnv });
        expect(r.status, `${step.name}:\n${output(r)}`).toBe(0);
      }
    };

    // First run: nothing saved yet; the install step installs into the empty prefix.
    runWorkflow(1);
    for (const a of artefacts) expect(fs.existsSync(path.join(work, a)), a).toBe(true);
    const first = JSON.parse(fs.readFileSync(path.join(work, "bench-out", "report.json"), "utf8")) as BenchReport;
    expect(first.comparison).toBeUndefined();
    expect(first.files.map((f) => f.file)).toEqual(["gettysburg.txt", "story.txt"]);
    expect(first.baselines.ran.map((b) => b.name)).toContain("zpaq");
    expect(first.passed).toBe(true);
    expect(fs.readFileSync(path.join(work, "bench-out", "report.svg"), "utf8")).toMatch(/^<svg/);
    expect(fs.readFileSync(path.join(work, ".llmzip-report", "last.json"))).toEqual(fs.readFileSync(path.join(work, "bench-out", "report.json")));

    // Second run: against the saved report, unchanged, so it passes with every file the same
    // (llmzip is installed already: from the bench step on).
    runWorkflow(2);
    const second = JSON.parse(fs.readFileSync(path.join(work, "bench-out", "report.json"), "utf8")) as BenchReport;
    expect(second.comparison?.report.path).toBe(".llmzip-report/last.json");
    expect(second.comparison?.files.map((f) => f.status)).toEqual(["same", "same"]);
    const { counts } = await checkJunit(fs.readFileSync(path.join(work, "bench-out", "junit.xml"), "utf8"));
    expect(counts).toEqual({ tests: 4, failures: 0, errors: 0, skipped: 0 });
    // Both runs appended their markdown report to the job summary.
    const appended = fs.readFileSync(summary, "utf8");
    expect(appended.match(/^# llmzip benchmark$/gm)).toHaveLength(2);
    expect(appended).toMatch(/No regression/);
  });

  it("installs as a project dependency and runs with npx", () => {
    const project = path.join(root, "project");
    fs.mkdirSync(project);
    // npm 11 wants a project's approval of install scripts in package.json (the flag is refused there).
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, allowScripts: { llmzip: true } }));
    const localEnv = { ...env, npm_config_prefix: undefined };
    const install = sh(nice(`npm install ${JSON.stringify(tarball)}`), { cwd: project, env: localEnv });
    expect(install.status, output(install)).toBe(0);
    const data = fs.readFileSync(corpusPath("misc/gettysburg.txt"));
    const c = sh(`npx --no-install llmzip compress -m ${JSON.stringify(model)} --threads 1 -c`, { cwd: project, env: localEnv, input: data });
    expect(c.status, output(c)).toBe(0);
    const d = sh(`npx --no-install llmzip decompress -m ${JSON.stringify(model)} --threads 1 -c`, { cwd: project, env: localEnv, input: c.stdout });
    expect(d.status, output(d)).toBe(0);
    expect(Buffer.compare(d.stdout, data)).toBe(0);
  });
});
