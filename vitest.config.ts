import { defineConfig } from 'vitest/config';

// One command runs every suite: database suites run on PGlite and on a throwaway PostgreSQL 15 cluster
// (started once in the global setup), pgTAP files run against that cluster too.
export default defineConfig({
  test: {
    include: ['apps/**/*.test.ts', 'packages/**/*.test.ts', 'supabase/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**', 'apps/web/**'],
    globalSetup: ['packages/db/src/testing/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
