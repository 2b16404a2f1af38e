// openDb: a pg pool when there is a DATABASE_URL, otherwise embedded PGlite (on disk, or in memory for tests).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * PGlite's own start parameters, with a buffer cache of 32 MB instead of PostgreSQL's 128: PGlite's WebAssembly memory
 * holds all of it from the start, and the smaller cache takes ~95 MiB off the embedded hub (~430 to ~335 MiB) with no
 * difference measured in the bus or dashboard benchmarks (10,000 messages). Pages it does not hold are read back from
 * the operating system's cache. PostgreSQL is the choice for a large mesh.
 */
function startOptions(lite: typeof PGlite): { startParams: string[] } {
  return { startParams: [...lite.defaultStartParams, '-c', 'shared_buffers=32MB'] };
}

/** initdb writes it; PGlite takes a directory that holds it for a database, and creates one in any other. */
const VERSION_FILE = 'PG_VERSION';
/** Where a new database is made before it is moved into the data directory. */
const SCRATCH = '.creating';

// Run by the child: `node --input-type=module -e`, with PGlite's entry and the directory in the environment.
const CREATE = `const { PGlite } = await import(process.env.MESHCODE_PGLITE_ENTRY);
const db = await PGlite.create(process.env.MESHCODE_PGLITE_DIR);
await db.close();`;

/**
 * Makes a new database in a short-lived child process, then moves it into dataDir, PG_VERSION last.
 *
 * Creating a database grows PGlite's WebAssembly memory to about twice what a running one needs, and a process never
 * gets that memory back: a hub that created its own database held ~860 MiB where the same hub started again held ~430.
 * With a child creating it, the first start holds about what a later one does (npm run bench:start).
 *
 * Made in a scratch directory and moved in with PG_VERSION last, an interrupted creation leaves no half-made database
 * behind: the next start finds no PG_VERSION and makes it again, replacing what the interrupted move left.
 */
async function createDatabase(dataDir: string): Promise<void> {
  const scratch = join(dataDir, SCRATCH);
  rmSync(scratch, { recursive: true, force: true });
  const stderr: Buffer[] = [];
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CREATE], {
      env: {
        ...process.env,
        MESHCODE_PGLITE_ENTRY: import.meta.resolve('@electric-sql/pglite'),
        MESHCODE_PGLITE_DIR: scratch,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.once('error', (error) => done({ code: null, signal: null, error }));
    child.once('close', (code, signal) => done({ code, signal }));
  });
  if (outcome.error || outcome.code !== 0 || !existsSync(join(scratch, VERSION_FILE))) {
    rmSync(scratch, { recursive: true, force: true });
    // Node prints an uncaught error with its source line and stack around it: keep the error's own line.
    const lines = Buffer.concat(stderr)
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const said = lines.find((line) => /^[A-Za-z]*Error\b/.test(line)) ?? lines.at(-1);
    const how = outcome.error
      ? outcome.error.message
      : outcome.signal
        ? `killed by ${outcome.signal}`
        : `exit code ${outcome.code}`;
    throw new Error(
      `Could not create the embedded database in ${dataDir} (${how})${said ? `: ${said}` : ''}\n` +
        'Nothing was kept; check that the directory is writable and the disk has room, then start again.',
    );
  }
  const names = readdirSync(scratch).filter((name) => name !== VERSION_FILE);
  for (const name of [...names, VERSION_FILE]) {
    rmSync(join(dataDir, name), { recursive: true, force: true });
    renameSync(join(scratch, name), join(dataDir, name));
  }
  rmSync(scratch, { recursive: true, force: true });
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
  if (opts.dataDir === undefined) return pgliteDb(await wrapDbErrors(PGlite.create(startOptions(PGlite))), true);

  mkdirSync(opts.dataDir, { recursive: true });
  const unlock = lockDataDir(opts.dataDir);
  let lite: PGlite;
  try {
    if (!existsSync(join(opts.dataDir, VERSION_FILE))) await createDatabase(opts.dataDir);
    lite = await wrapDbErrors(PGlite.create(opts.dataDir, startOptions(PGlite)));
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
