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

/** How often the WAL written by asynchronous commits is flushed, as PostgreSQL's wal_writer_delay (200 ms). */
export const WAL_FLUSH_MS = 200;

/**
 * PostgreSQL's WAL writer, which PGlite (one process, no background workers) lacks. Some transactions commit with
 * synchronous_commit off (acknowledgements, presence, notes: a crash may lose their last moments); PostgreSQL's WAL
 * writer flushes such commits within wal_writer_delay, but in PGlite nothing did until the next synchronous commit, so
 * a hub killed after a spell of acknowledgements lost all of them, and the ids they used were handed out again. Every
 * WAL_FLUSH_MS after a call that could have written, the WAL inserted but not flushed is flushed by committing a
 * transactional logical message synchronously (a commit flushes everything before it; the message is the cheapest
 * write that gives a transaction a commit record to flush).
 */
function walWriter(lite: PGlite): { wrote: () => void; stop: () => void } {
  // In memory there is nothing to lose to a crash that the memory itself does not lose.
  if (!lite.dataDir || lite.dataDir.startsWith('memory://')) return { wrote: () => {}, stop: () => {} };
  let dirty = false;
  let running = false;
  const timer = setInterval(() => {
    if (!dirty || running || lite.closed) return;
    dirty = false;
    running = true;
    void flushWal(lite)
      .catch(() => {
        dirty = true; // tried again on the next tick; a closed database stops the timer first
      })
      .finally(() => {
        running = false;
      });
  }, WAL_FLUSH_MS);
  timer.unref();
  return {
    wrote: () => {
      dirty = true;
    },
    stop: () => clearInterval(timer),
  };
}

async function flushWal(lite: PGlite): Promise<void> {
  const lag = await lite.query<{ behind: boolean }>(
    'select pg_catalog.pg_current_wal_insert_lsn() > pg_catalog.pg_current_wal_flush_lsn() as behind',
  );
  if (!lag.rows[0]?.behind) return;
  await lite.transaction(async (tx) => {
    // The session's synchronous_commit is on: only the transactions that want otherwise turn it off, for themselves.
    await tx.query("select pg_catalog.pg_logical_emit_message(true, 'meshcode', '')");
  });
}

/** Wrap a PGlite instance. `owned`: close() also closes the instance. */
export function pgliteDb(lite: PGlite, owned: boolean): Db {
  const guard = new ReentryGuard();
  const wal = walWriter(lite);
  let closed = false;

  async function transaction<T>(setup: ((tx: Transaction) => Promise<void>) | null, fn: (tx: Queryable) => Promise<T>) {
    wal.wrote();
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
      wal.wrote();
      return run(lite, sql, params);
    },
    async exec(sql) {
      guard.check('exec');
      wal.wrote();
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
      wal.wrote();
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
      wal.stop();
      if (owned && !lite.closed) await lite.close();
    },
  };
}
