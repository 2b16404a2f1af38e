// What the global setup hands to test files through vitest's provide/inject.
export interface PgClusterInfo {
  host: string;
  port: number;
  user: string;
  /** URL of the maintenance database `postgres` (create/drop databases from here). */
  adminUrl: string;
  /** Name of the migrated template every test database is cloned from. */
  templateDb: string;
  /** Directory of the PostgreSQL binaries (psql for pgTAP). */
  binDir: string;
}

export interface MeshTestEnv {
  /** Null when the cluster could not start; `error` says why. */
  pg: PgClusterInfo | null;
  /** Tarball of a migrated PGlite data directory (PGlite `loadDataDir`), or null on error. */
  pgliteSnapshot: string | null;
  /** A migrated PGlite data directory on disk, to copy for child processes; null on error. */
  pgliteDataDir: string | null;
  /** Scratch directory of this run, removed at the end. */
  tmpRoot: string;
  /** Why the database harness is unusable (cluster or migrations failed); every database suite fails with it. */
  error: string | null;
  /** Boot timings in ms, for the curious. */
  timings: Record<string, number>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    meshTestEnv: MeshTestEnv;
  }
}
