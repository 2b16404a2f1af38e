// The migration runner on both backends, against empty databases and throwaway migration dirs.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MigrationError } from './migrate';
import { openDb } from './open';
import { BACKENDS, createDatabase, databaseUrl, dropDatabase, uniqueName, type Backend } from './testing/backends';
import type { Db } from './types';

const scratch = mkdtempSync(join(tmpdir(), 'meshcode-migrate-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A directory holding the given files. */
function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(scratch, 'sql-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** An empty database: a fresh one per call on Postgres; one shared in-memory PGlite per file (names differ per test). */
let lite: Db | undefined;
const opened: { db: Db; name?: string }[] = [];
async function emptyDb(backend: Backend): Promise<Db> {
  if (backend === 'pglite') return (lite ??= await openDb());
  const name = await createDatabase({ template: null });
  const db = await openDb({ databaseUrl: databaseUrl(name), poolSize: 1 });
  opened.push({ db, name });
  return db;
}
afterAll(async () => {
  await lite?.close();
  for (const { db, name } of opened) {
    await db.close();
    if (name) await dropDatabase(name);
  }
});

for (const backend of BACKENDS) {
  describe(`migrate [${backend}]`, () => {
    let shimDir: string;
    beforeAll(() => {
      shimDir = dir({
        '000_roles.sql': `create schema if not exists shimtest;
          create or replace function shimtest.version() returns int language sql as 'select 1';`,
      });
    });

    it('applies files in name order, records their sha256, and skips them next time', async () => {
      const db = await emptyDb(backend);
      const p = uniqueName('m');
      const first = `create table ${p}_t (id int);\n`;
      const second = `insert into ${p}_t values (1);\r\n`; // CRLF checkouts hash like LF ones
      const migrationsDir = dir({ [`${p}_2_fill.sql`]: second, [`${p}_1_create.sql`]: first });

      const run1 = await migrate(db, { migrationsDir, shimDir });
      expect(run1).toEqual({
        shim: ['000_roles.sql'],
        applied: [`${p}_1_create.sql`, `${p}_2_fill.sql`],
        skipped: [],
        adopted: [],
      });
      const ledger = await db.query(
        'select name, sha256 from mesh_migrations.ledger where name like $1 order by name',
        [`${p}%`],
      );
      expect(ledger.rows).toEqual([
        { name: `${p}_1_create.sql`, sha256: sha(first) },
        { name: `${p}_2_fill.sql`, sha256: sha(second.replace(/\r\n/g, '\n')) },
      ]);

      const run2 = await migrate(db, { migrationsDir, shimDir });
      expect(run2).toMatchObject({
        shim: ['000_roles.sql'],
        applied: [],
        skipped: [`${p}_1_create.sql`, `${p}_2_fill.sql`],
      });
      expect((await db.query(`select count(*) as n from ${p}_t`)).rows).toEqual([{ n: 1 }]);

      writeFileSync(join(migrationsDir, `${p}_3_more.sql`), `insert into ${p}_t values (2);`);
      expect((await migrate(db, { migrationsDir, shimDir })).applied).toEqual([`${p}_3_more.sql`]);
    });

    it('refuses an applied migration whose text changed, naming the file', async () => {
      const db = await emptyDb(backend);
      const p = uniqueName('m');
      const migrationsDir = dir({ [`${p}_1.sql`]: `create table ${p}_t (id int);` });
      await migrate(db, { migrationsDir, shimDir });
      writeFileSync(join(migrationsDir, `${p}_1.sql`), `create table ${p}_t (id bigint);`);
      writeFileSync(join(migrationsDir, `${p}_2.sql`), `create table ${p}_later (id int);`);
      const err = await migrate(db, { migrationsDir, shimDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).file).toBe(`${p}_1.sql`);
      expect((err as Error).message).toMatch(
        new RegExp(`^Migration ${p}_1\\.sql was edited after it was applied .*new migration\\.$`),
      );
      expect((await db.query(`select to_regclass('${p}_later') as t`)).rows).toEqual([{ t: null }]);
    });

    it('rolls back a failing migration whole and says where it failed', async () => {
      const db = await emptyDb(backend);
      const p = uniqueName('m');
      const migrationsDir = dir({
        [`${p}_1.sql`]: `create table ${p}_t (id int);\nselect no_such_column from ${p}_t;\n`,
      });
      const err = await migrate(db, { migrationsDir, shimDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as Error).message).toMatch(
        new RegExp(`^Migration ${p}_1\\.sql failed at line 2: .*no_such_column.*\\(SQLSTATE 42703\\)\\.$`),
      );
      expect((await db.query(`select to_regclass('${p}_t') as t`)).rows).toEqual([{ t: null }]);
      expect(
        (await db.query('select count(*) as n from mesh_migrations.ledger where name = $1', [`${p}_1.sql`])).rows,
      ).toEqual([{ n: 0 }]);
    });

    it('does not let a plain SET in a migration outlive it on the session', async () => {
      const db = await emptyDb(backend);
      const p = uniqueName('m');
      const before = (await db.query<{ s: string }>('show search_path')).rows[0]?.s;
      await migrate(db, {
        migrationsDir: dir({ [`${p}_1.sql`]: `set search_path = pg_catalog; set check_function_bodies = off;` }),
        shimDir,
      });
      expect((await db.query<{ s: string }>('show search_path')).rows[0]?.s).toBe(before);
      expect((await db.query('show check_function_bodies')).rows).toEqual([{ check_function_bodies: 'on' }]);
    });

    it('records migrations that supabase db push already applied instead of running them again', async () => {
      const db = await emptyDb(backend);
      const version = String(Date.now()) + String(Math.floor(Math.random() * 1000));
      await db.exec(`create schema if not exists supabase_migrations;
        create table if not exists supabase_migrations.schema_migrations (version text primary key, name text);
        insert into supabase_migrations.schema_migrations values ('${version}', 'pushed');`);
      const migrationsDir = dir({ [`${version}_pushed.sql`]: 'select no_such_thing;' });
      const result = await migrate(db, { migrationsDir, shimDir });
      expect(result.adopted).toEqual([`${version}_pushed.sql`]);
      expect(result.applied).toEqual([]);
    });

    it('says which directory is missing', async () => {
      const db = await emptyDb(backend);
      await expect(migrate(db, { migrationsDir: join(scratch, 'nope'), shimDir })).rejects.toThrow(
        /^The migrations directory .*nope does not exist; pass migrationsDir to migrate\(\)\.$/,
      );
    });
  });
}

describe('migrate [postgres only]', () => {
  it('applies the shim on plain Postgres every run, and skips it where Supabase provides auth.uid()', async () => {
    const shimDir = dir({
      '000_auth.sql': `create schema if not exists auth;
      create or replace function auth.uid() returns uuid language sql as 'select null::uuid';`,
    });
    const migrationsDir = dir({});
    const plain = await emptyDb('postgres');
    expect((await migrate(plain, { migrationsDir, shimDir })).shim).toEqual(['000_auth.sql']);
    expect((await migrate(plain, { migrationsDir, shimDir })).shim).toEqual(['000_auth.sql']);

    const supabase = await emptyDb('postgres');
    await supabase.exec(
      `create schema auth; create function auth.uid() returns uuid language sql as 'select null::uuid';`,
    );
    expect((await migrate(supabase, { migrationsDir, shimDir })).shim).toEqual([]);
  });

  it('lets several hubs migrate one database at once: every file runs exactly once', async () => {
    const name = await createDatabase({ template: null });
    const dbs = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: databaseUrl(name), poolSize: 2 })));
    try {
      const migrationsDir = dir({
        '001_a.sql': 'create table a (id int primary key);',
        '002_b.sql': 'insert into a values (1);',
        '003_c.sql': 'create table c (id int); insert into c select id from a;',
        '004_d.sql': 'alter table c add column note text;',
      });
      const shimDir = dir({
        '000.sql': 'create or replace function public.shim_ok() returns int language sql as $$ select 1 $$;',
      });
      const results = await Promise.all(dbs.map((db) => migrate(db, { migrationsDir, shimDir })));
      const applied = results.flatMap((r) => r.applied).sort();
      expect(applied).toEqual(['001_a.sql', '002_b.sql', '003_c.sql', '004_d.sql']);
      for (const r of results) expect([...r.applied, ...r.skipped].sort()).toEqual(applied);
      const db = dbs[0]!;
      expect((await db.query('select count(*) as n from a')).rows).toEqual([{ n: 1 }]);
      expect((await db.query('select count(*) as n from mesh_migrations.ledger')).rows).toEqual([{ n: 4 }]);
    } finally {
      for (const db of dbs) await db.close();
      await dropDatabase(name);
    }
  });
});
