// Small helpers both backends share: argument checks and the guard against re-entering the Db inside a transaction.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Claims, DbRole } from './types';

const ROLES: ReadonlySet<string> = new Set<DbRole>(['anon', 'authenticated', 'service_role']);
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** The role and claims JSON PostgREST would set for these claims. */
export function callerSettings(claims: Claims | null): { role: DbRole; json: string } {
  if (claims === null) return { role: 'anon', json: '{"role":"anon"}' };
  if (!ROLES.has(claims.role)) {
    throw new Error(`asCaller got role ${JSON.stringify(claims.role)}; use anon, authenticated or service_role.`);
  }
  return { role: claims.role, json: JSON.stringify(claims) };
}

export function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) {
    throw new Error(
      `Channel name ${JSON.stringify(channel)} is not a lower-case SQL identifier; use [a-z_][a-z0-9_]*.`,
    );
  }
}

export const CALL_AS_SQL = 'select mesh.call_as($1, $2, $3::jsonb) as r';
export const CALL_AS_GET_SQL = 'select mesh.call_as($1, $2, $3::jsonb, $4) as r';

/**
 * Calling the Db itself from inside one of its own transactions waits forever on PGlite (one connection) and on
 * pg silently runs outside the transaction; both are bugs, so both backends refuse it.
 *
 * The AsyncLocalStorage is disabled whenever no transaction runs. On Node 20 an enabled one installs promise hooks for
 * the whole process, which made every promise 2 to 3 times dearer for the rest of its life: the migrations' one
 * transaction at startup slowed every request the hub served.
 */
export class ReentryGuard {
  readonly #inTx = new AsyncLocalStorage<true>();
  #running = 0;

  check(method: string): void {
    if (this.#running > 0 && this.#inTx.getStore()) {
      throw new Error(
        `db.${method}() was called inside one of this Db's transactions; use the tx argument the callback received.`,
      );
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await this.#inTx.run(true, fn);
    } finally {
      if (--this.#running === 0) this.#inTx.disable();
    }
  }
}

/** What both backends say when COMMIT found the transaction aborted by a statement the callback caught. */
export const ABORTED_COMMIT =
  'The transaction was rolled back because a statement in it failed; let the error propagate.';
