import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    pool: 'forks',
    // Test files run two (or more) at a time: most of a file's time is spent in dlt
    // child processes and waits, and the whole suite takes about 10 minutes on two
    // cores instead of 16 one at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
