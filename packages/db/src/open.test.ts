// Embedded PGlite on disk: data survives a restart, and two processes never open one directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from './open';
import { WAL_FLUSH_MS } from './pglite';

const root = mkdtempSync(join(tmpdir(), 'meshcode-open-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('openDb with a PGlite data directory', () => {
  it('keeps data across close and reopen, and locks the directory while open', async () => {
    const dataDir = join(root, 'home', 'pglite');
    const db = await openDb({ dataDir });
    expect(db.kind).toBe('pglite');
    // Made in a child process and moved in: nothing of the scratch directory is left.
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, '.creating'))).toBe(false);
    // The smaller buffer cache that keeps the embedded hub's memory down.
    expect((await db.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '32MB' }]);
    await db.exec('create table kept (v text); insert into kept values ($$still here$$);');
    await expect(openDb({ dataDir })).rejects.toThrow(/already open in this process/);
    await db.close();
    expect(existsSync(join(dataDir, 'meshcode.lock'))).toBe(false);

    // Another live process holds it: refuse; a dead one left its lock behind: take over.
    writeFileSync(join(dataDir, 'meshcode.lock'), String(process.ppid));
    await expect(openDb({ dataDir })).rejects.toThrow(
      new RegExp(`^The embedded database in .* is already open in process ${process.ppid}; stop that hub`),
    );
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dataDir, 'meshcode.lock'), String(dead));
    const again = await openDb({ dataDir });
    try {
      expect((await again.query('select v from kept')).rows).toEqual([{ v: 'still here' }]);
    } finally {
      await again.close();
    }
  });

  it('makes the database again where an earlier creation was cut short', async () => {
    // Killed while moving the new database in: part of it is there, PG_VERSION (moved last) is not.
    const dataDir = join(root, 'interrupted');
    mkdirSync(join(dataDir, 'base', '1'), { recursive: true });
    writeFileSync(join(dataDir, 'base', '1', 'half'), 'x');
    mkdirSync(join(dataDir, '.creating', 'global'), { recursive: true });
    writeFileSync(join(dataDir, 'unrelated.txt'), 'left alone');
    const db = await openDb({ dataDir });
    try {
      expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      expect(existsSync(join(dataDir, 'base', '1', 'half'))).toBe(false);
      expect(existsSync(join(dataDir, '.creating'))).toBe(false);
      // The smaller buffer cache that keeps the embedded hub's memory down.
      expect((await db.query('show shared_buffers')).rows).toEqual([{ shared_buffers: '32MB' }]);
      expect(existsSync(join(dataDir, 'unrelated.txt'))).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("flushes commits made with synchronous_commit off within moments, as PostgreSQL's WAL writer does", async () => {
    // A process that commits 50 rows asynchronously, waits past the flush interval and is then killed (no close).
    const dataDir = join(root, 'killed');
    const script = join(root, 'async-commits.mts');
    writeFileSync(
      script,
      `import { openDb } from ${JSON.stringify(join(import.meta.dirname, 'open.ts'))};
const db = await openDb({ dataDir: ${JSON.stringify(dataDir)} });
await db.exec('create table acks (id int generated always as identity, v text)');
for (let i = 0; i < 50; i++) {
  await db.transaction(async (tx) => {
    await tx.query("select set_config('synchronous_commit', 'off', true)");
    await tx.query("insert into acks (v) values ('ack')");
  });
}
await new Promise((resolve) => setTimeout(resolve, ${WAL_FLUSH_MS * 2}));
process.kill(process.pid, 'SIGKILL');
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    rmSync(join(dataDir, 'meshcode.lock'));
    const db = await openDb({ dataDir });
    try {
      expect((await db.query('select count(*)::int as n, max(id) as last from acks')).rows).toEqual([
        { n: 50, last: 50 },
      ]);
      // The identity goes on past them (after a crash, past the values it had logged ahead): none is handed out twice.
      const next = await db.query<{ id: number }>("insert into acks (v) values ('next') returning id");
      expect(next.rows[0]!.id).toBeGreaterThan(50);
    } finally {
      await db.close();
    }
  });

  it('says why it could not create the database, and keeps nothing of it', async () => {
    const dataDir = join(root, 'failed');
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--require ${join(root, 'no-such-preload.cjs')}`;
    try {
      await expect(openDb({ dataDir })).rejects.toThrow(
        /^Could not create the embedded database in .*failed \(exit code 1\): Error: Cannot find module '.*no-such-preload\.cjs'\nNothing was kept; check that the directory is writable/,
      );
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    expect(readdirSync(dataDir)).toEqual([]); // no database, no scratch directory, no lock
    const db = await openDb({ dataDir });
    await db.close();
  });
});
