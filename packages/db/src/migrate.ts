// Migration runner: the shim (idempotent, re-applied every start) then supabase/migrations in name order, each in
// its own transaction under one advisory lock, recorded with its sha256 in mesh_migrations.ledger.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DbError } from './errors';
import { defaultMigrationsDir, defaultShimDir } from './paths';
import type { Db, Queryable } from './types';

export interface MigrateOptions {
  /** Default: <repo>/supabase/migrations. */
  migrationsDir?: string;
  /** Default: <repo>/supabase/shim. */
  shimDir?: string;
  /**
   * Apply the shim first. Default: always on PGlite; on Postgres unless it is Supabase, i.e. `auth.uid()` exists
   * and was not put there by our own shim.
   */
  applyShim?: boolean;
  /** One line per file applied or adopted. */
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** Shim files applied (all of them, every run) — empty when the shim was skipped. */
  shim: string[];
  /** Migrations applied by this run. */
  applied: string[];
  /** Migrations already in the ledger (or applied meanwhile by another process). */
  skipped: string[];
  /** Migrations found applied by `supabase db push` and recorded without running them again. */
  adopted: string[];
}

/** A migration could not be applied, or an applied one was edited. The message names the file. */
export class MigrationError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.file = file;
  }
}

interface SqlFile {
  name: string;
  sql: string;
  sha256: string;
}

// Any constant works; every MeshCode process uses this one so concurrent hubs take turns.
const MIGRATION_LOCK = 7_315_240_167_052_511;

async function readSqlDir(dir: string, what: string): Promise<SqlFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`The ${what} directory ${dir} does not exist; pass ${what}Dir to migrate().`, { cause: e });
    }
    throw e;
  }
  const files = names
    .filter((n) => n.endsWith('.sql') && !n.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    files.map(async (name) => {
      // Hash what Postgres runs, independent of a checkout's line endings.
      const sql = (await readFile(join(dir, name), 'utf8')).replace(/\r\n/g, '\n');
      return { name, sql, sha256: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

function lineOf(sql: string, position: number | undefined): string {
  if (!position) return '';
  return ` at line ${sql.slice(0, position - 1).split('\n').length}`;
}

async function lockedTx<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // Migrations may legitimately run long and may wait for another hub's migration.
    await tx.query('set local statement_timeout = 0');
    await tx.query('select pg_catalog.pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    return fn(tx);
  });
}

const BOOTSTRAP = `
  create schema if not exists mesh_migrations;
  comment on schema mesh_migrations is 'MeshCode migration ledger (private; written only by the migration runner).';
  create table if not exists mesh_migrations.ledger (
    name text primary key,
    sha256 text not null,
    applied_at timestamptz not null default now()
  );
  comment on table mesh_migrations.ledger is 'One row per applied supabase/migrations file, with the sha256 of its text.';
  create table if not exists mesh_migrations.shim (
    name text primary key,
    sha256 text not null,
    applied_at timestamptz not null default now()
  );
  comment on table mesh_migrations.shim is 'Shim files last applied here: proves auth.uid() is ours, not Supabase''s.';
  revoke all on schema mesh_migrations from public;
`;

async function isSupabase(db: Db): Promise<boolean> {
  const r = await db.query<{ has_uid: boolean; ours: boolean }>(
    `select pg_catalog.to_regprocedure('auth.uid()') is not null as has_uid,
            pg_catalog.to_regclass('mesh_migrations.shim') is not null as ours`,
  );
  const row = r.rows[0];
  if (!row?.has_uid) return false;
  if (!row.ours) return true;
  const shim = await db.query('select 1 from mesh_migrations.shim limit 1');
  return shim.rowCount === 0;
}

async function supabaseVersions(db: Db): Promise<Set<string>> {
  const exists = await db.query<{ ok: boolean }>(
    `select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as ok`,
  );
  if (!exists.rows[0]?.ok) return new Set();
  const r = await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations');
  return new Set(r.rows.map((row) => row.version));
}

/** Bring the database up to date. Safe to run from several processes at once. */
export async function migrate(db: Db, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => undefined);
  const migrations = await readSqlDir(opts.migrationsDir ?? defaultMigrationsDir(), 'migrations');
  const applyShim = opts.applyShim ?? (db.kind === 'pglite' || !(await isSupabase(db)));
  const shimFiles = applyShim ? await readSqlDir(opts.shimDir ?? defaultShimDir(), 'shim') : [];
  const result: MigrateResult = { shim: [], applied: [], skipped: [], adopted: [] };

  await lockedTx(db, (tx) => tx.exec(BOOTSTRAP));

  for (const file of shimFiles) {
    await lockedTx(db, async (tx) => {
      await run(tx, file, 'Shim file');
      await tx.query(
        `insert into mesh_migrations.shim (name, sha256) values ($1, $2)
         on conflict (name) do update set sha256 = excluded.sha256, applied_at = now()`,
        [file.name, file.sha256],
      );
    });
    result.shim.push(file.name);
  }

  const pushed = await supabaseVersions(db);
  for (const file of migrations) {
    const outcome = await lockedTx(db, async (tx) => {
      const r = await tx.query<{ sha256: string }>('select sha256 from mesh_migrations.ledger where name = $1', [
        file.name,
      ]);
      const applied = r.rows[0];
      if (applied) {
        if (applied.sha256 !== file.sha256) {
          throw new MigrationError(
            file.name,
            `Migration ${file.name} was edited after it was applied (sha256 ${applied.sha256.slice(0, 12)} is now ${file.sha256.slice(0, 12)}); restore the original text and put the change in a new migration.`,
          );
        }
        return 'skipped' as const;
      }
      const version = file.name.split('_')[0] ?? '';
      const adopt = pushed.has(version);
      if (!adopt) await run(tx, file, 'Migration');
      await tx.query('insert into mesh_migrations.ledger (name, sha256) values ($1, $2)', [file.name, file.sha256]);
      return adopt ? ('adopted' as const) : ('applied' as const);
    });
    result[outcome].push(file.name);
    if (outcome === 'applied') log(`applied migration ${file.name}`);
    if (outcome === 'adopted') log(`recorded migration ${file.name} (already applied by supabase db push)`);
  }
  return result;
}

async function run(tx: Queryable, file: SqlFile, what: string): Promise<void> {
  try {
    await tx.exec(file.sql);
    // A plain SET in a file (pg_dump output has several) would otherwise outlive it on this pooled session.
    await tx.exec('reset all');
  } catch (e) {
    if (e instanceof DbError) {
      throw new MigrationError(
        file.name,
        `${what} ${file.name} failed${lineOf(file.sql, e.position)}: ${e.message} (SQLSTATE ${e.code}).`,
        { cause: e },
      );
    }
    throw e;
  }
}
