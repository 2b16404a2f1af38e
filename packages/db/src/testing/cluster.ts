// A throwaway PostgreSQL cluster: initdb into a temp dir, start on a free loopback port, stop with -m immediate.
// initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Cluster {
  binDir: string;
  dataDir: string;
  port: number;
  user: string;
  stop(): void;
}

const INSTALL_HINT = 'install PostgreSQL 15 (apt-get install postgresql-15 postgresql-15-pgtap)';

function tryExec(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** PostgreSQL 15's binaries if installed, else whatever pg_config reports (15 or newer). */
export function findPgBinDir(): string {
  const candidates = ['/usr/lib/postgresql/15/bin', tryExec('pg_config', ['--bindir'])];
  for (const dir of candidates) {
    if (!dir || !existsSync(join(dir, 'initdb')) || !existsSync(join(dir, 'pg_ctl'))) continue;
    const version = tryExec(join(dir, 'postgres'), ['--version']);
    const major = Number(/(\d+)(?:\.\d+)?/.exec(version ?? '')?.[1]);
    if (major >= 15) return dir;
  }
  throw new Error(`No PostgreSQL 15+ server binaries (initdb, pg_ctl) were found; ${INSTALL_HINT}.`);
}

interface PgUser {
  uid: number;
  gid: number;
  /** Prefix that runs a command as this user. */
  wrap(cmd: string, args: string[]): [string, string[]];
}

function pgUser(): PgUser | null {
  if (process.getuid?.() !== 0) return null;
  const entry = tryExec('getent', ['passwd', 'postgres']);
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (!uid || !gid) {
    throw new Error(`initdb refuses to run as root and there is no postgres OS user to run it as; ${INSTALL_HINT}.`);
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return {
    uid: Number(uid),
    gid: Number(gid),
    wrap: (cmd, args) =>
      runuser
        ? [runuser, ['-u', 'postgres', '--', cmd, ...args]]
        : ['su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(quote).join(' ')]],
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Start a cluster in `dir` (which must be empty or missing). */
export async function startCluster(dir: string): Promise<Cluster> {
  const binDir = findPgBinDir();
  const user = pgUser();
  mkdirSync(dir, { recursive: true });
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');

  const command = (cmd: string, args: string[]): [string, string[]] =>
    user ? user.wrap(join(binDir, cmd), args) : [join(binDir, cmd), args];
  const failure = (cmd: string, code: unknown, output: string): Error => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    return new Error(`${cmd} failed (exit ${String(code)}): ${output}${log ? `\n${log}` : ''}`);
  };
  // Asynchronous while starting, so the caller can build the PGlite snapshot meanwhile.
  const run = (cmd: string, args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const [file, argv] = command(cmd, args);
      execFile(file, argv, { encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(failure(cmd, error.code, stderr || stdout)) : resolve(),
      );
    });
  // Synchronous for stop(), which also runs from 'exit' and signal handlers.
  const runSync = (cmd: string, args: string[]): void => {
    const [file, argv] = command(cmd, args);
    const r = spawnSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw failure(cmd, r.status ?? r.signal, r.stderr || r.stdout);
  };

  // Defaults kept (fsync on): correctness tests must see real durability and locking behaviour.
  await run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const options = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      `-c max_connections=200`,
    ].join(' ');
    try {
      await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
    } catch (e) {
      lastError = e; // most likely the port was taken meanwhile
      continue;
    }
    let stopped = false;
    return {
      binDir,
      dataDir,
      port,
      user: 'postgres',
      stop() {
        if (stopped) return;
        stopped = true;
        try {
          runSync('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // already gone
        }
      },
    };
  }
  throw lastError;
}
