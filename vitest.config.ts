import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/isolated-home.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Model-driven suites are CPU-bound on a 2-core machine; running files in
    // parallel only makes each slower and timing-sensitive tests flaky.
    fileParallelism: false,
  },
});
