import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start servers and a Redis-backed service; keep files apart but not too many at once on 2 cores.
    maxWorkers: 2,
  },
});
