// openDb: a pg pool when there is a DATABASE_URL, otherwise embedded PGlite (on disk, or in memory for tests).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { wrapDbErrors } from './errors';
import { pgliteDb } from './pglite';
import { postgresDb } from './postgres';
import type { Db } from './types';

export interface OpenDbOptions {
  /** postgres:// URL: use a pg pool against it. */
  databaseUrl?: string;
  /** PGlite data directory (created when missing); in memory when undefined. Ignored with databaseUrl. */
  dataDir?: string;
  /** pg pool size (default 10). */
  poolSize?: number;
  /** An existing PGlite instance to use; close() leaves it open (its creator closes it). */
  pglite?: PGlite;
  /** pg only: statement_timeout of pool sessions in ms (default 30 000). */
  statementTimeoutMs?: number;
  /** pg only: application_name (default 'meshcode-hub'). */
  applicationName?: string;
}

const LOCK_FILE = 'meshcode.lock';
const openHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite does not lock its data directory, and two processes writing one directory corrupt it:
 * keep a pid file beside the data and refuse while its owner is alive.
 */
function lockDataDir(dataDir: string): () => void {
  const key = resolve(dataDir);
  if (openHere.has(key)) {
    throw new Error(
      `The embedded database in ${dataDir} is already open in this process; reuse that Db or close it first.`,
    );
  }
  const file = join(dataDir, LOCK_FILE);
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new Error(
        `The embedded database in ${dataDir} is already open in process ${pid}; stop that hub or pass another data directory.`,
        { cause: e },
      );
    }
    writeFileSync(file, String(process.pid));
  }
  openHere.add(key);
  return () => {
    openHere.delete(key);
    rmSync(file, { force: true });
  };
}

export async function openDb(opts: OpenDbOptions = {}): Promise<Db> {
  if (opts.databaseUrl) {
    return postgresDb({
      databaseUrl: opts.databaseUrl,
      ...(opts.poolSize !== undefined && { poolSize: opts.poolSize }),
      ...(opts.statementTimeoutMs !== undefined && { statementTimeoutMs: opts.statementTimeoutMs }),
      ...(opts.applicationName !== undefined && { applicationName: opts.applicationName }),
    });
  }
  if (opts.pglite) return pgliteDb(opts.pglite, false);

  const { PGlite } = await import('@electric-sql/pglite');
  if (opts.dataDir === undefined) return pgliteDb(await wrapDbErrors(PGlite.create()), true);

  mkdirSync(opts.dataDir, { recursive: true });
  const unlock = lockDataDir(opts.dataDir);
  let lite: PGlite;
  try {
    lite = await wrapDbErrors(PGlite.create(opts.dataDir));
  } catch (e) {
    unlock();
    throw e;
  }
  const db = pgliteDb(lite, true);
  return {
    ...db,
    async close() {
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}
