// The harness itself: both backends are migrated copies, isolated from each other, and reset cleanly.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDb } from '../open';
import { defaultMigrationsDir } from '../paths';
import {
  createDatabase,
  databaseUrl,
  describeBackends,
  dropDatabase,
  freshDatabaseUrl,
  pgCluster,
  pgliteDataDirCopy,
  testEnv,
} from './backends';
import { parseTap, runPgTapFile } from './pgtap';
import { resetState } from './reset';
import { bareAuthCalls } from './schema-lint';

const migrationFiles = (): string[] =>
  readdirSync(defaultMigrationsDir())
    .filter((n) => n.endsWith('.sql'))
    .sort();

async function ledger(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ name: string }>('select name from mesh_migrations.ledger order by name')).rows.map(
      (r) => r.name,
    );
  } finally {
    await client.end();
  }
}

describeBackends('harness', (getDb, backend) => {
  it('hands out a database with every migration applied', async () => {
    const r = await getDb().query<{ name: string }>('select name from mesh_migrations.ledger order by name');
    expect(r.rows.map((row) => row.name)).toEqual(migrationFiles());
    const where = await getDb().query<{ db: string }>('select current_database() as db');
    if (backend === 'postgres') expect(where.rows[0]?.db).not.toBe(testEnv().pg?.templateDb);
  });

  it('resetState empties every mesh table and restarts identities', async () => {
    const db = getDb();
    await db.exec(`create table if not exists mesh.zz_reset_probe (id bigint generated always as identity, v text);
                   alter table mesh.zz_reset_probe enable row level security;`);
    await db.query(`insert into mesh.zz_reset_probe (v) values ('a'), ('b')`);
    await resetState(db);
    const counts = await db.query<{ t: string; n: number }>(
      `select c.relname as t, (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from mesh.%I', c.relname), false, true, '')))[1]::text::int as n
         from pg_class c join pg_namespace ns on ns.oid = c.relnamespace where ns.nspname = 'mesh' and c.relkind = 'r'`,
    );
    expect(counts.rows.filter((row) => row.n !== 0)).toEqual([]);
    expect(counts.rows.length).toBeGreaterThan(0);
    const again = await db.query(`insert into mesh.zz_reset_probe (v) values ('c') returning id`);
    expect(again.rows).toEqual([{ id: 1 }]);
    await db.exec('drop table mesh.zz_reset_probe');
  });
});

describe('child-process databases', () => {
  let url = '';
  it('freshDatabaseUrl gives a migrated database of its own', async () => {
    url = await freshDatabaseUrl();
    expect(await ledger(url)).toEqual(migrationFiles());
  });

  it('drops that database when its test ends', async () => {
    const admin = new pg.Client({ connectionString: pgCluster().adminUrl });
    await admin.connect();
    try {
      const name = new URL(url).pathname.slice(1);
      expect((await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('pgliteDataDirCopy gives a writable migrated data directory, independent of other copies', async () => {
    const first = await pgliteDataDirCopy();
    const db = await openDb({ dataDir: first });
    try {
      const r = await db.query<{ name: string }>('select name from mesh_migrations.ledger order by name');
      expect(r.rows.map((row) => row.name)).toEqual(migrationFiles());
      await db.exec('create table public.only_in_first (x int)');
    } finally {
      await db.close();
    }
    const second = await openDb({ dataDir: await pgliteDataDirCopy() });
    try {
      expect((await second.query(`select to_regclass('public.only_in_first') as t`)).rows).toEqual([{ t: null }]);
    } finally {
      await second.close();
    }
  });
});

describe('parseTap', () => {
  it('counts passes, failures with their diagnostics, and TODOs', () => {
    const tap = parseTap(
      [
        '1..4',
        'ok 1 - a',
        'not ok 2 - b',
        '# Failed test 2: "b"',
        '#   have: 1',
        'ok 3',
        'not ok 4 - c # TODO later',
        '',
      ].join('\n'),
    );
    expect(tap).toEqual({
      planned: 4,
      passed: 2,
      count: 4,
      failures: ['not ok 2 - b\n# Failed test 2: "b"\n#   have: 1'],
    });
  });
});

describe('runPgTapFile', () => {
  it('reports failed assertions, SQL errors and a broken plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcode-tap-'));
    const database = await createDatabase();
    try {
      const client = new pg.Client({ connectionString: databaseUrl(database) });
      await client.connect();
      await client.query('create extension if not exists pgtap');
      await client.end();
      const file = (name: string, body: string): string => {
        writeFileSync(join(dir, name), `begin;\n${body}\nselect * from finish();\nrollback;\n`);
        return join(dir, name);
      };
      const pass = await runPgTapFile(
        pgCluster(),
        database,
        file('pass.sql', `select plan(1); select ok(true, 'fine');`),
      );
      expect(pass).toMatchObject({ planned: 1, passed: 1, failures: [], problems: [] });

      const fail = await runPgTapFile(
        pgCluster(),
        database,
        file('fail.sql', `select plan(2); select ok(true, 'fine'); select is(1, 2, 'one is two');`),
      );
      expect(fail.failures).toHaveLength(1);
      expect(fail.failures[0]).toMatch(
        /^not ok 2 - one is two\n# Failed test 2: "one is two"\n#\s+have: 1\n#\s+want: 2/,
      );

      const broken = await runPgTapFile(
        pgCluster(),
        database,
        file('error.sql', `select plan(2); select ok(true); select nope;`),
      );
      expect(broken.problems).toEqual([
        expect.stringMatching(/^psql stopped: .*column "nope" does not exist/s),
        'planned 2 tests but ran 1',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dropDatabase(database);
    }
  });
});

describe('bareAuthCalls', () => {
  it('accepts calls wrapped in a SELECT and reports bare ones', () => {
    expect(bareAuthCalls('(owner_id = ( SELECT auth.uid() AS uid))')).toEqual([]);
    expect(bareAuthCalls(`(( SELECT (auth.jwt() ->> 'scope'::text)) = 'owner'::text)`)).toEqual([]);
    expect(bareAuthCalls('(owner_id = auth.uid())')).toEqual(['auth.uid()']);
    expect(
      bareAuthCalls(
        `(EXISTS ( SELECT 1 FROM mesh.members m WHERE ((m.account_id = auth.uid()) AND (m.role = 'auth.uid()'::text))))`,
      ),
    ).toEqual(['auth.uid()']);
    expect(bareAuthCalls(`(current_setting('request.jwt.claims'::text, true) IS NOT NULL)`)).toEqual([
      'current_setting()',
    ]);
  });
});
