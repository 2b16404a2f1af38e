// The server backend: a pg pool for queries and transactions, plus one dedicated connection for LISTEN.
import pg from 'pg';
import { DbError, toDbError, wrapDbErrors } from './errors';
import { pgTypes } from './parsers';
import { retryRolledBack } from './retry';
import { ABORTED_COMMIT, CALL_AS_GET_SQL, CALL_AS_SQL, callerSettings, checkChannel, ReentryGuard } from './shared';
import type { Claims, Db, ListenOptions, Queryable, QueryOptions, QueryResult } from './types';

export interface PostgresOptions {
  databaseUrl: string;
  /** Pool size (default 10). The LISTEN connection comes on top. */
  poolSize?: number;
  /** Per-statement limit for pool sessions (default 30 s); migrations lift it for themselves. */
  statementTimeoutMs?: number;
  /** Reported in pg_stat_activity (default 'meshcode-hub'; the LISTEN connection adds '-listen'). */
  applicationName?: string;
}

type PgRunner = pg.Pool | pg.PoolClient | pg.Client;

async function run<T>(on: PgRunner, sql: string, params?: unknown[], opts?: QueryOptions): Promise<QueryResult<T>> {
  const r = await wrapDbErrors(
    opts?.prepareAs ? on.query({ name: opts.prepareAs, text: sql, values: params }) : on.query(sql, params),
  );
  return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
// A connection that died silently (NAT timeout, failover) emits nothing: probe it, and replace it when it hangs.
const HEARTBEAT_EVERY_MS = 30_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

interface ListenEntry {
  onPayload: (payload: string) => void;
  onReconnect: (() => void) | undefined;
}

/** One long-lived connection shared by every listener; re-LISTENs all channels after a reconnect. */
class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #entries = new Map<string, Set<ListenEntry>>();
  #client: pg.Client | null = null;
  #everConnected = false;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  #attempt = 0;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(config: pg.ClientConfig) {
    this.#config = config;
  }

  async #ping(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
        }),
      ]);
    } catch {
      this.#dropped(client);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run state changes one at a time: connect, LISTEN, UNLISTEN and reconnect never interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn, fn);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client(this.#config);
    client.on('notification', (n) => this.#dispatch(client, n.channel, n.payload ?? ''));
    client.on('error', () => this.#dropped(client));
    client.on('end', () => this.#dropped(client));
    try {
      await client.connect();
      for (const channel of this.#entries.keys()) await client.query(`listen "${channel}"`);
    } catch (e) {
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      throw toDbError(e);
    }
    this.#client = client;
    this.#attempt = 0;
    this.#heartbeat ??= setInterval(() => void this.#ping(), HEARTBEAT_EVERY_MS).unref();
    if (this.#everConnected) {
      for (const set of this.#entries.values())
        for (const entry of set) if (entry.onReconnect) queueMicrotask(entry.onReconnect);
    }
    this.#everConnected = true;
    return client;
  }

  #dispatch(client: pg.Client, channel: string, payload: string): void {
    if (client !== this.#client) return;
    const set = this.#entries.get(channel);
    if (!set) return;
    // Like PGlite: callbacks run on their own, so one that throws cannot break delivery to the others.
    for (const entry of set) queueMicrotask(() => entry.onPayload(payload));
  }

  #dropped(client: pg.Client): void {
    if (client !== this.#client) return;
    this.#client = null;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry || this.#entries.size === 0) return;
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.#attempt);
    this.#attempt += 1;
    this.#retry = setTimeout(
      () => {
        this.#retry = null;
        this.#serial(async () => {
          if (this.#closed || this.#client || this.#entries.size === 0) return;
          await this.#connect();
        }).catch(() => this.#scheduleReconnect());
      },
      base / 2 + Math.random() * (base / 2),
    );
  }

  add(channel: string, entry: ListenEntry): Promise<() => Promise<void>> {
    return this.#serial(async () => {
      if (this.#closed) throw new Error('listen() was called on a closed Db.');
      const client = await this.#connect();
      let set = this.#entries.get(channel);
      if (!set) {
        await wrapDbErrors(client.query(`listen "${channel}"`));
        set = new Set();
        this.#entries.set(channel, set);
      }
      set.add(entry);
      return () => this.#remove(channel, entry);
    });
  }

  #remove(channel: string, entry: ListenEntry): Promise<void> {
    return this.#serial(async () => {
      const set = this.#entries.get(channel);
      if (!set?.delete(entry) || set.size > 0) return;
      this.#entries.delete(channel);
      // A connection that just died is not listening any more either, so a failed UNLISTEN changes nothing.
      await this.#client?.query(`unlisten "${channel}"`).catch(() => undefined);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#retry = null;
    this.#heartbeat = null;
    return this.#serial(async () => {
      const client = this.#client;
      this.#client = null;
      this.#entries.clear();
      if (client) {
        client.removeAllListeners('notification');
        await client.end().catch(() => undefined);
      }
    });
  }

  /** The backend pid of the LISTEN connection (tests use it to cut the connection). */
  async backendPid(): Promise<number | null> {
    const client = this.#client;
    if (!client) return null;
    const r = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return r.rows[0]?.pid ?? null;
  }
}

export interface PostgresDb extends Db {
  readonly kind: 'postgres';
  /** Backend pid of the LISTEN connection, or null when it is not connected. For tests. */
  listenerPid(): Promise<number | null>;
}

export async function postgresDb(opts: PostgresOptions): Promise<PostgresDb> {
  const applicationName = opts.applicationName ?? 'meshcode-hub';
  const base: pg.ClientConfig = { connectionString: opts.databaseUrl, types: pgTypes, keepAlive: true };
  const pool = new pg.Pool({
    ...base,
    max: opts.poolSize ?? 10,
    application_name: applicationName,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle pooled connection that dies is dropped by the pool; the next checkout opens a new one.
  pool.on('error', () => undefined);
  const listener = new PgListener({
    ...base,
    application_name: `${applicationName}-listen`,
    connectionTimeoutMillis: 10_000,
  });
  const guard = new ReentryGuard();
  let closed = false;

  async function transaction<T>(
    setup: ((c: pg.PoolClient) => Promise<void>) | null,
    fn: (tx: Queryable) => Promise<T>,
  ) {
    const client = await wrapDbErrors(pool.connect());
    let open = true;
    const alive = (): void => {
      if (!open) throw new Error('This transaction has already ended; run queries inside its callback.');
    };
    const tx: Queryable = {
      query: async (sql, params) => {
        alive();
        return run(client, sql, params);
      },
      exec: async (sql) => {
        alive();
        await wrapDbErrors(client.query(sql));
      },
    };
    let broken: Error | undefined;
    try {
      await run(client, 'begin');
      if (setup) await setup(client);
      const result = await guard.run(() => fn(tx));
      open = false;
      const commit = await wrapDbErrors(client.query('commit'));
      // COMMIT of a transaction in which a statement failed (and the caller caught it) is a silent ROLLBACK.
      if (commit.command === 'ROLLBACK') {
        throw new DbError({
          code: '25P02',
          message: ABORTED_COMMIT,
        });
      }
      return result;
    } catch (e) {
      if (open) {
        open = false;
        try {
          await client.query('rollback');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
      }
      const err = toDbError(e);
      if (err instanceof DbError && err.code.startsWith('08')) broken ??= err;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  const db: PostgresDb = {
    kind: 'postgres',
    async query(sql, params, opts) {
      guard.check('query');
      // One statement in its own transaction: if PostgreSQL rolled it back for a retry, nothing of it happened.
      return retryRolledBack(() => run(pool, sql, params, opts));
    },
    async exec(sql) {
      guard.check('exec');
      await wrapDbErrors(pool.query(sql));
    },
    async transaction(fn) {
      guard.check('transaction');
      return transaction(null, fn);
    },
    async asCaller<T>(claims: Claims | null, fn: (tx: Queryable) => Promise<T>) {
      guard.check('asCaller');
      const { role, json } = callerSettings(claims);
      return transaction(async (client) => {
        await run(client, `set local role ${role}`);
        await run(client, `select pg_catalog.set_config('request.jwt.claims', $1, true)`, [json]);
      }, fn);
    },
    async callAs(keyHash, fn, args, opts) {
      guard.check('callAs');
      const params = [keyHash, fn, JSON.stringify(args)];
      const r =
        opts?.get === undefined
          ? await run<{ r: unknown }>(pool, CALL_AS_SQL, params)
          : await run<{ r: unknown }>(pool, CALL_AS_GET_SQL, [...params, opts.get]);
      return r.rows[0]?.r ?? null;
    },
    async listen(channel, onPayload, opts?: ListenOptions) {
      guard.check('listen');
      checkChannel(channel);
      return listener.add(channel, { onPayload, onReconnect: opts?.onReconnect });
    },
    async notify(channel, payload) {
      guard.check('notify');
      await run(pool, 'select pg_catalog.pg_notify($1, $2)', [channel, payload]);
    },
    listenerPid: () => listener.backendPid(),
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },
  };

  try {
    await db.query('select 1');
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
