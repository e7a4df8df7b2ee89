import { defineConfig } from "vitest/config";

/**
 * Test files that need no model and no ../shared: they run first
 * (`npm run test:unit`) and pass on a fresh checkout after `npm run build`.
 * Every other file is a model test (`npm run test:model`). A new test file
 * belongs here when it loads no GGUF file and reads nothing from ../shared.
 */
export const UNIT_TESTS = [
  "test/layers.test.ts",
  "test/bench.test.ts",
  "test/bench-ci.test.ts",
  "test/chat-endpoint.test.ts",
  "test/chunker.test.ts",
  "test/coder.test.ts",
  "test/container.test.ts",
  "test/hardening-coder.test.ts",
  "test/lossy-sections.test.ts",
  "test/lossy-prune.test.ts",
  "test/mixer.test.ts",
  "test/mixer2.test.ts",
  "test/qa-format.test.ts",
  "test/shipped-model.test.ts",
  "test/span-coder.test.ts",
  "test/util.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/helpers/isolated-home.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Model-driven suites are CPU-bound on a 2-core machine; running files in
    // parallel only makes each slower and timing-sensitive tests flaky.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: "unit", include: UNIT_TESTS } },
      { extends: true, test: { name: "model", include: ["test/**/*.test.ts"], exclude: UNIT_TESTS } },
    ],
  },
});
