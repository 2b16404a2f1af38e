// What only the pg backend has: a separate LISTEN connection that survives being cut, pool settings, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbError } from './errors';
import { openDb } from './open';
import { postgresDb, type PostgresDb } from './postgres';
import { createDatabase, databaseUrl, dropDatabase } from './testing/backends';
import { freePort } from './testing/cluster';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('postgres backend', () => {
  let name: string;
  let a: PostgresDb;
  let b: PostgresDb;

  beforeAll(async () => {
    name = await createDatabase();
    a = await postgresDb({ databaseUrl: databaseUrl(name), poolSize: 2 });
    b = await postgresDb({ databaseUrl: databaseUrl(name), poolSize: 2 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (name) await dropDatabase(name);
  });

  it('delivers a notification sent through another Db on the same database', async () => {
    const got = deferred<string>();
    const stop = await a.listen('pgtest_cross', got.resolve);
    await b.notify('pgtest_cross', '{"agent":"x"}');
    expect(await got.promise).toBe('{"agent":"x"}');
    await stop();
  });

  it('serves every listener from one dedicated connection outside the pool', async () => {
    const stops = await Promise.all([
      a.listen('pgtest_one', () => undefined),
      a.listen('pgtest_one', () => undefined),
      a.listen('pgtest_two', () => undefined),
    ]);
    const r = await b.query<{ application_name: string; n: number }>(
      `select application_name, count(*) as n from pg_stat_activity
        where datname = $1 and application_name like 'meshcode-hub%' group by 1 order by 1`,
      [name],
    );
    expect(r.rows.find((row) => row.application_name === 'meshcode-hub-listen')?.n).toBe(1);
    for (const stop of stops) await stop();
  });

  it('reconnects with backoff, re-LISTENs and tells the listener when its connection is cut', async () => {
    const reconnected = deferred<void>();
    const payloads: string[] = [];
    const after = deferred<void>();
    const stop = await a.listen(
      'pgtest_cut',
      (p) => {
        payloads.push(p);
        if (p === 'after') after.resolve();
      },
      { onReconnect: () => reconnected.resolve() },
    );
    const pid = await a.listenerPid();
    expect(pid).toBeTypeOf('number');
    await b.query('select pg_terminate_backend($1)', [pid]);
    await reconnected.promise;
    expect(await a.listenerPid()).not.toBe(pid);
    await b.notify('pgtest_cut', 'after');
    await after.promise;
    expect(payloads).toEqual(['after']);
    await stop();
  });

  it('names its sessions and bounds statements', async () => {
    const r = await a.query<{ app: string; timeout: string; idle: string }>(
      `select current_setting('application_name') as app, current_setting('statement_timeout') as timeout,
              current_setting('idle_in_transaction_session_timeout') as idle`,
    );
    expect(r.rows[0]).toEqual({ app: 'meshcode-hub', timeout: '30s', idle: '1min' });

    const quick = await openDb({ databaseUrl: databaseUrl(name), poolSize: 1, statementTimeoutMs: 100 });
    try {
      await expect(quick.query('select pg_sleep(30)')).rejects.toMatchObject({ code: '57014' });
    } finally {
      await quick.close();
    }
  });

  it('reports an unreachable server as a DbError of class 08 that says what to check', async () => {
    const port = await freePort();
    const err = await openDb({ databaseUrl: `postgres://postgres:secret@127.0.0.1:${port}/nope` }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toBe('08006');
    expect((err as DbError).message).toContain('DATABASE_URL');
    expect((err as DbError).message).not.toContain('secret');
  });
});
