import { defineConfig } from 'vitest/config';

// Test files start real process trees: run them one file at a time so they do not fight for two cores,
// and give each test room for process start-up under load.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report lets CI print one plain 'N passed, N failed' line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-artifacts/vitest.json' },
  },
});
