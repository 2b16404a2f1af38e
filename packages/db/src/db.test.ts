// The Db contract on both backends: result types, errors, transactions, callers, listen/notify.
import { beforeAll, expect, it } from 'vitest';
import { DbError } from './errors';
import { describeBackends } from './testing/backends';
import type { Db } from './types';

function nextPayload(db: Db, channel: string): Promise<{ payload: Promise<string>; stop: () => Promise<void> }> {
  let resolve: (p: string) => void = () => undefined;
  const payload = new Promise<string>((r) => (resolve = r));
  return db.listen(channel, (p) => resolve(p)).then((stop) => ({ payload, stop }));
}

describeBackends('Db', (getDb, backend) => {
  beforeAll(async () => {
    await getDb().exec(`
      create schema if not exists dbtest;
      create table if not exists dbtest.items (id int primary key, name text not null unique);
      create or replace function public.zz_dbtest_echo(p_x text) returns jsonb language sql
        as $$ select jsonb_build_object('x', p_x, 'user', current_user::text,
                                        'claims', current_setting('request.jwt.claims', true)::jsonb) $$;
      grant execute on function public.zz_dbtest_echo(text) to anon;
    `);
  });

  it('reports its kind', () => {
    expect(getDb().kind).toBe(backend);
  });

  it('returns rows and rowCount', async () => {
    const db = getDb();
    const r = await db.query<{ n: number }>('select g as n from generate_series(1, 3) g');
    expect(r.rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(r.rowCount).toBe(3);
    await db.query('delete from dbtest.items');
    const ins = await db.query('insert into dbtest.items values ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
    expect(ins.rowCount).toBe(2);
  });

  it('gives int8 as a number when exact and as a string otherwise, timestamptz as ISO text', async () => {
    const r = await getDb().query(
      `select 42::int8 as small, 9007199254740993::int8 as big, count(*) as cnt,
              '2024-02-03 04:05:06.789+02'::timestamptz as tz, '2024-02-03 04:05:06'::timestamp as ts,
              '2024-02-03'::date as d, array[1, 9007199254740993]::int8[] as ints,
              array['2024-01-01T00:00:00Z'::timestamptz, null] as tzs, 1.50::numeric as num,
              'infinity'::timestamptz as inf, '{"a":[1,2]}'::jsonb as j
         from (values (1), (2)) v(x)`,
    );
    expect(r.rows[0]).toEqual({
      small: 42,
      big: '9007199254740993',
      cnt: 2,
      tz: '2024-02-03T02:05:06.789Z',
      ts: '2024-02-03 04:05:06',
      d: '2024-02-03',
      ints: [1, '9007199254740993'],
      tzs: ['2024-01-01T00:00:00.000Z', null],
      num: '1.50',
      inf: 'infinity',
      j: { a: [1, 2] },
    });
  });

  it('raises a DbError with SQLSTATE, detail and hint', async () => {
    const db = getDb();
    const err = await db
      .exec(
        `do $$ begin raise exception using errcode = 'PT401', message = 'key revoked', detail = 'd1', hint = 'h1'; end $$`,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbError);
    expect(err).toMatchObject({ code: 'PT401', message: 'key revoked', detail: 'd1', hint: 'h1' });

    await db.query(`insert into dbtest.items values (10, 'dup') on conflict do nothing`);
    const dup = await db.query(`insert into dbtest.items values (11, 'dup')`).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(DbError);
    expect(dup).toMatchObject({ code: '23505', constraint: 'items_name_key', table: 'items', schema: 'dbtest' });
    expect((dup as DbError).detail).toContain('already exists');

    const syntax = await db.query('select from where').catch((e: unknown) => e);
    expect(syntax).toMatchObject({ code: '42601', position: 13 });
  });

  it('commits a transaction and rolls it back when the callback throws', async () => {
    const db = getDb();
    await db.query('delete from dbtest.items');
    const got = await db.transaction(async (tx) => {
      await tx.query(`insert into dbtest.items values (1, 'kept')`);
      return (await tx.query<{ n: number }>('select count(*) as n from dbtest.items')).rows[0]?.n;
    });
    expect(got).toBe(1);

    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`insert into dbtest.items values (2, 'lost')`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`insert into dbtest.items values (3, 'lost too')`);
        await tx.query(`insert into dbtest.items values (1, 'duplicate key')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const names = await db.query<{ name: string }>('select name from dbtest.items order by id');
    expect(names.rows).toEqual([{ name: 'kept' }]);
  });

  it('refuses to commit a transaction in which a statement failed and was caught', async () => {
    const err = await getDb()
      .transaction(async (tx) => {
        await tx.query('select 1/0').catch(() => undefined);
        return 'looked fine';
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toBe('25P02');
  });

  it('refuses the Db itself inside its own transaction, and a tx used after it ended', async () => {
    const db = getDb();
    let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
    await expect(db.transaction(() => db.query('select 1'))).rejects.toThrow(/use the tx argument/);
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked?.query('select 1')).rejects.toThrow(/already ended/);
  });

  it('runs asCaller as the role with the claims, like PostgREST, and resets afterwards', async () => {
    const db = getDb();
    const sub = '6f1d5a52-5a0b-4d7e-9d1e-0c2b4f3a9e10';
    const claims = { role: 'authenticated' as const, sub, key_id: 'k1', scope: 'owner' };
    const seen = await db.asCaller(claims, async (tx) => {
      const r = await tx.query<{ u: string; c: unknown; uid: string }>(
        `select current_user::text as u, current_setting('request.jwt.claims', true)::jsonb as c, auth.uid()::text as uid`,
      );
      return r.rows[0];
    });
    expect(seen).toEqual({ u: 'authenticated', c: claims, uid: sub });

    const anon = await db.asCaller(
      null,
      async (tx) => (await tx.query(`select current_user::text as u, auth.role() as r`)).rows[0],
    );
    expect(anon).toEqual({ u: 'anon', r: 'anon' });

    // The role is real: anon may not read the private ledger.
    await expect(db.asCaller(null, (tx) => tx.query('select * from mesh_migrations.ledger'))).rejects.toMatchObject({
      code: '42501',
    });

    const after = await db.query<{ u: string; c: string | null }>(
      `select current_user::text as u, nullif(current_setting('request.jwt.claims', true), '') as c`,
    );
    expect(after.rows[0]).toEqual({ u: 'postgres', c: null });
    await expect(db.asCaller({ role: 'postgres' as 'anon' }, async () => 1)).rejects.toThrow(
      /anon, authenticated or service_role/,
    );
  });

  it('callAs runs mesh.call_as as one statement and returns its result', async () => {
    const db = getDb();
    const r = await db.callAs(null, 'zz_dbtest_echo', { p_x: 'hi' });
    const text = JSON.stringify(r);
    expect(text).toContain('"x":"hi"');
    expect(text).toContain('"user":"anon"');
    await expect(db.callAs(null, 'zz_no_such_function', {})).rejects.toMatchObject({ code: 'PT404' });
    const after = await db.query('select current_user::text as u');
    expect(after.rows[0]).toEqual({ u: 'postgres' });
  });

  it('delivers notifications to listeners and stops after unlisten', async () => {
    const db = getDb();
    const first = await nextPayload(db, 'dbtest_a');
    await db.notify('dbtest_a', 'hello');
    expect(await first.payload).toBe('hello');

    const seen: string[] = [];
    const stopA = await db.listen('dbtest_a', (p) => seen.push(p));
    await first.stop();
    await stopA();
    const second = await nextPayload(db, 'dbtest_b');
    await db.notify('dbtest_a', 'nobody hears this');
    await db.notify('dbtest_b', 'marker');
    // Notifications arrive in order, so once the marker is here the unlistened one would have arrived too.
    expect(await second.payload).toBe('marker');
    expect(seen).toEqual([]);
    await second.stop();
    await second.stop(); // idempotent
    await expect(db.listen('Bad-Channel', () => undefined)).rejects.toThrow(/lower-case SQL identifier/);
  });
});
