// The embedded backend: one PGlite instance (one connection), so transactions serialise the whole database.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { DbError, toDbError, wrapDbErrors } from './errors';
import { resultParsers } from './parsers';
import { ABORTED_COMMIT, CALL_AS_GET_SQL, CALL_AS_SQL, callerSettings, checkChannel, ReentryGuard } from './shared';
import type { Claims, Db, Queryable, QueryResult } from './types';

const queryOptions = { parsers: resultParsers };

type Runner = Pick<PGlite, 'query' | 'exec'> | Transaction;

async function run<T>(on: Runner, sql: string, params?: unknown[]): Promise<QueryResult<T>> {
  const r = await wrapDbErrors(on.query<T>(sql, params, queryOptions));
  return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length };
}

function txQueryable(tx: Transaction): { q: Queryable; end: () => void } {
  let open = true;
  const alive = (): void => {
    if (!open) throw new Error('This transaction has already ended; run queries inside its callback.');
  };
  return {
    q: {
      query: async (sql, params) => {
        alive();
        return run(tx, sql, params);
      },
      exec: async (sql) => {
        alive();
        await wrapDbErrors(tx.exec(sql, queryOptions));
      },
    },
    end: () => {
      open = false;
    },
  };
}

/** Wrap a PGlite instance. `owned`: close() also closes the instance. */
export function pgliteDb(lite: PGlite, owned: boolean): Db {
  const guard = new ReentryGuard();
  let closed = false;

  async function transaction<T>(setup: ((tx: Transaction) => Promise<void>) | null, fn: (tx: Queryable) => Promise<T>) {
    try {
      return await lite.transaction(async (raw) => {
        const { q, end } = txQueryable(raw);
        try {
          if (setup) await setup(raw);
          return await guard.run(() => fn(q));
        } finally {
          end();
        }
      });
    } catch (e) {
      const err = toDbError(e);
      // PGlite's TransactionAbortedError: same code as pg's silent ROLLBACK, same sentence.
      if (err instanceof DbError && err.code === '25P02' && (e as { query?: unknown }).query === 'COMMIT') {
        throw new DbError({ code: '25P02', message: ABORTED_COMMIT }, { cause: e });
      }
      throw err;
    }
  }

  return {
    kind: 'pglite',
    async query(sql, params) {
      guard.check('query');
      return run(lite, sql, params);
    },
    async exec(sql) {
      guard.check('exec');
      await wrapDbErrors(lite.exec(sql, queryOptions));
    },
    async transaction(fn) {
      guard.check('transaction');
      return transaction(null, fn);
    },
    async asCaller<T>(claims: Claims | null, fn: (tx: Queryable) => Promise<T>) {
      guard.check('asCaller');
      const { role, json } = callerSettings(claims);
      return transaction(async (tx) => {
        await wrapDbErrors(tx.query(`set local role ${role}`));
        await wrapDbErrors(tx.query(`select pg_catalog.set_config('request.jwt.claims', $1, true)`, [json]));
      }, fn);
    },
    async callAs(keyHash, fn, args, opts) {
      guard.check('callAs');
      const params = [keyHash, fn, JSON.stringify(args)];
      const r =
        opts?.get === undefined
          ? await run<{ r: unknown }>(lite, CALL_AS_SQL, params)
          : await run<{ r: unknown }>(lite, CALL_AS_GET_SQL, [...params, opts.get]);
      return r.rows[0]?.r ?? null;
    },
    async listen(channel, onPayload) {
      guard.check('listen');
      checkChannel(channel);
      const unlisten = await wrapDbErrors(lite.listen(channel, onPayload));
      let done = false;
      return async () => {
        if (done || lite.closed) return;
        done = true;
        await wrapDbErrors(unlisten());
      };
    },
    async notify(channel, payload) {
      guard.check('notify');
      await run(lite, 'select pg_catalog.pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned && !lite.closed) await lite.close();
    },
  };
}
