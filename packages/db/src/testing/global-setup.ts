// Vitest global setup: ONE throwaway PostgreSQL cluster with a migrated `mesh_template`, and ONE migrated PGlite
// snapshot, built once per run and handed to test files via provide/inject. Failures do not abort the run: they
// are provided as `error`, and every database suite fails with that sentence while other suites still run.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../migrate';
import { openDb } from '../open';
import { defaultMigrationsDir, defaultShimDir, repoRoot } from '../paths';
import { startCluster, type Cluster } from './cluster';
import type { MeshTestEnv, PgClusterInfo } from './context';

export const TEMPLATE_DB = 'mesh_template';

async function buildTemplate(info: PgClusterInfo): Promise<void> {
  const admin = new pg.Client({ connectionString: info.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const db = await openDb({ databaseUrl: info.adminUrl.replace(/\/postgres$/, `/${TEMPLATE_DB}`), poolSize: 2 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  const admin2 = new pg.Client({ connectionString: info.adminUrl });
  await admin2.connect();
  try {
    // Clones need a template nobody is connected to; refusing connections keeps it that way.
    await admin2.query(`alter database ${TEMPLATE_DB} with is_template true allow_connections false`);
  } finally {
    await admin2.end();
  }
}

async function buildPgliteSnapshot(dir: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = await PGlite.create(join(dir, 'golden'));
  try {
    await migrate(await openDb({ pglite: lite }));
    const tarball = await lite.dumpDataDir('none');
    await writeFile(join(dir, 'snapshot.tar'), new Uint8Array(await tarball.arrayBuffer()));
  } finally {
    await lite.close();
  }
}

/** Everything the snapshot depends on: PGlite's version, the runner, and the text of every shim and migration file. */
function snapshotKey(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(fileURLToPath(new URL('../migrate.ts', import.meta.url))));
  const pkg = join(repoRoot(), 'node_modules', '@electric-sql', 'pglite', 'package.json');
  hash.update(existsSync(pkg) ? String((JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version) : '?');
  for (const dir of [defaultShimDir(), defaultMigrationsDir()]) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.sql')) hash.update(`\0${name}\0`).update(readFileSync(join(dir, name)));
    }
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * A migrated PGlite, cached in node_modules/.cache by content hash: booting PGlite and migrating costs seconds, and
 * the SQL rarely changes between runs. Built in a scratch dir and renamed into place, so concurrent runs are safe.
 */
async function pgliteSnapshot(): Promise<{ snapshot: string; dataDir: string }> {
  const cacheRoot = join(repoRoot(), 'node_modules', '.cache', 'meshcode-db');
  const key = snapshotKey();
  const dir = join(cacheRoot, `pglite-${key}`);
  const result = { snapshot: join(dir, 'snapshot.tar'), dataDir: join(dir, 'golden') };
  mkdirSync(cacheRoot, { recursive: true });
  // Prune entries no run has used for an hour (a run still using an older one keeps it fresh by starting with it).
  const now = Date.now();
  for (const old of readdirSync(cacheRoot)) {
    const path = join(cacheRoot, old);
    try {
      if (old !== `pglite-${key}` && now - statSync(path).mtimeMs > 3_600_000)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // another run pruned or renamed it meanwhile
    }
  }
  if (existsSync(result.snapshot)) {
    utimesSync(dir, new Date(), new Date());
    return result;
  }
  const building = mkdtempSync(join(cacheRoot, 'building-'));
  try {
    await buildPgliteSnapshot(building);
    try {
      renameSync(building, dir);
    } catch (e) {
      if (!existsSync(result.snapshot)) throw e; // else another run won the race with the same content
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return result;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export default async function setup(project: TestProject): Promise<() => void> {
  const tmpRoot = mkdtempSync(join(tmpdir(), 'meshcode-test-'));
  chmodSync(tmpRoot, 0o755); // the postgres OS user must reach its cluster dir inside
  mkdirSync(join(tmpRoot, 'pglite'));
  const timings: Record<string, number> = {};
  const errors: string[] = [];
  let cluster: Cluster | undefined;

  const cleanup = (): void => {
    cluster?.stop();
    cluster = undefined;
    rmSync(tmpRoot, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal).once('exit', cleanup);

  const started = Date.now();
  const postgres = (async (): Promise<PgClusterInfo | null> => {
    try {
      cluster = await startCluster(join(tmpRoot, 'cluster'));
    } catch (e) {
      errors.push(message(e));
      return null;
    }
    timings.clusterStartMs = Date.now() - started;
    const info: PgClusterInfo = {
      host: '127.0.0.1',
      port: cluster.port,
      user: cluster.user,
      adminUrl: `postgres://${cluster.user}@127.0.0.1:${cluster.port}/postgres`,
      templateDb: TEMPLATE_DB,
      binDir: cluster.binDir,
    };
    try {
      await buildTemplate(info);
      timings.templateReadyMs = Date.now() - started;
    } catch (e) {
      errors.push(`Migrating ${TEMPLATE_DB} on PostgreSQL failed: ${message(e)}`);
    }
    return info;
  })();
  const lite = (async () => {
    try {
      const built = await pgliteSnapshot();
      timings.pgliteSnapshotMs = Date.now() - started;
      return built;
    } catch (e) {
      errors.push(`Migrating the PGlite snapshot failed: ${message(e)}`);
      return null;
    }
  })();
  const [info, snap] = await Promise.all([postgres, lite]);

  const env: MeshTestEnv = {
    pg: info,
    pgliteSnapshot: snap?.snapshot ?? null,
    pgliteDataDir: snap?.dataDir ?? null,
    tmpRoot,
    error: errors.length > 0 ? errors.join(' ') : null,
    timings,
  };
  if (env.error) console.error(`[meshcode db harness] ${env.error}`);
  project.provide('meshTestEnv', env);

  return () => {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', cleanup);
    cleanup();
  };
}
