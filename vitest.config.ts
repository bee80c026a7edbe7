import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: end-to-end files spawn CLIs and PGlite; more workers only thrash.
    maxWorkers: 2,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
