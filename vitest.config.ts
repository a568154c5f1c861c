import { defineConfig } from 'vitest/config';

// One runner for every part: unit tests sit beside the code, integration tests in each part's test/.
export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'native/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'web/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Engine tests hold ONNX sessions and server tests spawn workers: keep parallelism to the
    // machine's two cores so CI timing stays predictable.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
