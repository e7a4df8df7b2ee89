import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Vitest global setup: every suite (and every CLI it spawns) gets a
 * throw-away LLMZIP_HOME, so that no test reads or writes the user's real
 * ~/.llmzip (registry, fingerprint cache, downloads). Suites that need a
 * fresh home per test set their own on top of this.
 */
export default function setup(): () => void {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "llmzip-test-home-"));
  process.env.LLMZIP_HOME = home;
  return () => fs.rmSync(home, { recursive: true, force: true });
}
