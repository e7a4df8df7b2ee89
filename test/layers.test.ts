/**
 * The layer rules (.dependency-cruiser.cjs, drawn in docs/ARCHITECTURE.md):
 * no import loops, no import from a lower floor to a higher one, checked by
 * dependency-cruiser with every test run.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/shared.js";

describe("layers", () => {
  it("src/ has no import loops and no upward or sideways imports", () => {
    const bin = path.join(repoRoot, "node_modules", ".bin", "depcruise");
    const r = spawnSync(bin, ["src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], { cwd: repoRoot, encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim() && r.status !== 0 ? `${r.stdout}${r.stderr}` : "").toBe("");
    expect(r.status).toBe(0);
  });
});
