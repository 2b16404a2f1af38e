// Per-file database backends for tests: a PGlite booted from the migrated snapshot, and a PostgreSQL database
// cloned from mesh_template. Both are created lazily, shared by every suite of a file, and closed after it.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject, onTestFinished } from 'vitest';
import { openDb } from '../open';
import type { Db } from '../types';
import type { MeshTestEnv, PgClusterInfo } from './context';

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['pglite', 'postgres'];

/** The run's harness info; throws the harness' own error sentence when it could not start. */
export function testEnv(): MeshTestEnv {
  const env = inject('meshTestEnv') as MeshTestEnv | undefined;
  if (!env) {
    throw new Error(
      'The database harness did not run; start tests from the repo root (npx vitest run ...) so vitest.config.ts loads its globalSetup.',
    );
  }
  return env;
}

function readyEnv(): MeshTestEnv {
  const env = testEnv();
  if (env.error) throw new Error(env.error);
  return env;
}

/** The throwaway cluster (it may be usable even when migrations failed: migrate tests need only the cluster). */
export function pgCluster(): PgClusterInfo {
  const env = testEnv();
  if (!env.pg) throw new Error(env.error ?? 'The PostgreSQL test cluster is not running.');
  return env.pg;
}

export function databaseUrl(name: string): string {
  return pgCluster().adminUrl.replace(/\/postgres$/, `/${name}`);
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgCluster().adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Create a database on the test cluster: a clone of mesh_template, or empty with `{ template: null }`. */
export async function createDatabase(opts: { name?: string; template?: string | null } = {}): Promise<string> {
  const template = opts.template === undefined ? readyEnv().pg!.templateDb : opts.template;
  const name = opts.name ?? uniqueName('t');
  await admin((c) => c.query(`create database "${name}"${template ? ` template "${template}"` : ''}`));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
}

/** Run `fn` when the current test ends, or at the end of the run when not inside a test. */
function whenTestEnds(fn: () => Promise<void>): void {
  try {
    onTestFinished(fn);
  } catch {
    // Called from a hook: the run's teardown removes the whole cluster and scratch directory anyway.
  }
}

/** A fresh migrated database for a child process (e.g. a hub subprocess); dropped when the test ends. */
export async function freshDatabaseUrl(): Promise<string> {
  const name = await createDatabase();
  whenTestEnds(() => dropDatabase(name));
  return databaseUrl(name);
}

/** A writable copy of the migrated PGlite data directory for a child-process hub; removed when the test ends. */
export async function pgliteDataDirCopy(): Promise<string> {
  const env = readyEnv();
  const dir = join(env.tmpRoot, 'pglite', uniqueName('copy'));
  await mkdir(dir, { recursive: true });
  await cp(env.pgliteDataDir!, dir, { recursive: true });
  whenTestEnds(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestDb {
  db: Db;
  /** The database name on the cluster (postgres only). */
  database?: string;
  dispose(): Promise<void>;
}

/** Open one migrated database of this backend: PGlite from the snapshot, or a clone of mesh_template. */
export async function openTestDb(backend: Backend): Promise<TestDb> {
  const env = readyEnv();
  if (backend === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const tar = await readFile(env.pgliteSnapshot!);
    const lite = await PGlite.create({ loadDataDir: new Blob([new Uint8Array(tar)]) });
    const db = await openDb({ pglite: lite });
    return {
      db,
      async dispose() {
        await db.close();
        await lite.close();
      },
    };
  }
  const database = await createDatabase();
  const db = await openDb({ databaseUrl: databaseUrl(database), poolSize: 5 });
  return {
    db,
    database,
    async dispose() {
      await db.close();
      await dropDatabase(database);
    },
  };
}

// One instance per backend per test file (each file runs in its own module registry).
const shared = new Map<Backend, Promise<TestDb>>();
const teardownRegistered = new Set<Backend>();

function sharedDb(backend: Backend): Promise<TestDb> {
  let p = shared.get(backend);
  if (!p) {
    p = openTestDb(backend);
    shared.set(backend, p);
  }
  return p;
}

/**
 * Register the suite once per backend — `describe('<name> [pglite]')` and `describe('<name> [postgres]')` — so
 * the output shows both. `getDb()` is valid inside hooks and tests. State persists between tests: call
 * resetState(getDb()) in a beforeEach when tests must not see each other's rows.
 */
export function describeBackends(name: string, body: (getDb: () => Db, backend: Backend) => void): void {
  for (const backend of BACKENDS) {
    if (!teardownRegistered.has(backend)) {
      teardownRegistered.add(backend);
      // Registered where describeBackends is called (normally the file level), so it runs after every suite.
      afterAll(async () => {
        const p = shared.get(backend);
        shared.delete(backend);
        teardownRegistered.delete(backend);
        if (p) await (await p).dispose();
      });
    }
    describe(`${name} [${backend}]`, () => {
      let db: Db | undefined;
      beforeAll(async () => {
        db = (await sharedDb(backend)).db;
      });
      body(() => {
        if (!db) throw new Error('getDb() was called before the suite started; call it inside a hook or a test.');
        return db;
      }, backend);
    });
  }
}
