// The runtime contract both backends (PGlite and a pg pool) implement.

export type DbKind = 'pglite' | 'postgres';

/** The three API roles PostgREST switches to; the shim creates them on plain Postgres and PGlite. */
export type DbRole = 'anon' | 'authenticated' | 'service_role';

/** JWT claims as PostgREST puts them in `request.jwt.claims` (see ARCHITECTURE "Claims JSON"). */
export interface Claims {
  role: DbRole;
  sub?: string;
  [claim: string]: unknown;
}

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection under this name (PostgreSQL; ignored by PGlite). Only for fixed SQL
   * text run very often: it saves parsing and planning it on every call.
   */
  prepareAs?: string;
}

/** What a transaction callback gets: the same session for every call, until the callback settles. */
export interface Queryable {
  /**
   * One statement. Outside a transaction, PostgreSQL runs it again (up to 3 attempts in all) when it was rolled back
   * as a deadlock victim or for a serialization failure.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<QueryResult<T>>;
  /** Several statements, no parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called after the listening connection was lost and LISTEN is in force again (pg only). Notifications sent
   * while it was down are gone, so a caller that sleeps on them should re-run its catch-up query here.
   */
  onReconnect?: () => void;
}

export interface CallAsOptions {
  /** The request came as HTTP GET: mesh.call_as refuses volatile functions then (p_get). */
  get?: boolean;
}

/**
 * Result types are the same on both backends: int8 is a JS number when it is a safe integer and its decimal
 * string otherwise; timestamptz is an ISO-8601 string (`Date#toISOString`, UTC, milliseconds); timestamp and
 * date are Postgres' own text; numeric is a string; json/jsonb are parsed. For jsonb parameters pass an object
 * or a JSON string: pg turns a JS array into a Postgres array literal.
 */
export interface Db extends Queryable {
  readonly kind: DbKind;
  /** BEGIN; fn(tx); COMMIT — ROLLBACK when fn throws. On PGlite the whole database waits: keep network awaits out. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * A transaction run as the caller, exactly as PostgREST does: `set local role anon|authenticated|service_role`
   * and `set_config('request.jwt.claims', json, true)`. Null claims mean anon (`{"role":"anon"}`).
   */
  asCaller<T>(claims: Claims | null, fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** ONE statement: `select mesh.call_as($1, $2, $3::jsonb) as r`; resolves to r. Null keyHash means anon. */
  callAs(keyHash: string | null, fn: string, args: Record<string, unknown>, opts?: CallAsOptions): Promise<unknown>;
  /**
   * LISTEN on a channel; resolves once the LISTEN is in force, to a function that removes this listener.
   * pg: one dedicated connection (outside the pool) serves every listener and reconnects with backoff.
   */
  listen(channel: string, onPayload: (payload: string) => void, opts?: ListenOptions): Promise<() => Promise<void>>;
  /** pg_notify outside any transaction. */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
