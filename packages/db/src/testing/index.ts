// Test harness for database suites (vitest only; never imported by runtime code).
export {
  BACKENDS,
  createDatabase,
  databaseUrl,
  describeBackends,
  dropDatabase,
  freshDatabaseUrl,
  openTestDb,
  pgCluster,
  pgliteDataDirCopy,
  testEnv,
  uniqueName,
  type Backend,
  type TestDb,
} from './backends';
export type { MeshTestEnv, PgClusterInfo } from './context';
export { resetState } from './reset';
export { bareAuthCalls, formatViolations, lintSchema, type LintRule, type LintViolation } from './schema-lint';
export { parseTap, runPgTapFile, type TapResult } from './pgtap';
