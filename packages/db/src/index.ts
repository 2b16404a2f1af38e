export { DbError, toDbError } from './errors';
export type {
  Claims,
  CallAsOptions,
  Db,
  DbKind,
  DbRole,
  ListenOptions,
  Queryable,
  QueryOptions,
  QueryResult,
} from './types';
export { openDb, type OpenDbOptions } from './open';
export { postgresDb, type PostgresDb, type PostgresOptions } from './postgres';
export { pgliteDb } from './pglite';
export { migrate, MigrationError, type MigrateOptions, type MigrateResult } from './migrate';
export { defaultMigrationsDir, defaultShimDir, repoRoot } from './paths';
export { dbEnvSchema, loadDbEnv, pgliteDataDir, type DbEnv } from './env';
export { parseInt8, parseTimestamptz } from './parsers';
