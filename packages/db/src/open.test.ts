// Embedded PGlite on disk: data survives a restart, and two processes never open one directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from './open';

const root = mkdtempSync(join(tmpdir(), 'meshcode-open-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('openDb with a PGlite data directory', () => {
  it('keeps data across close and reopen, and locks the directory while open', async () => {
    const dataDir = join(root, 'home', 'pglite');
    const db = await openDb({ dataDir });
    expect(db.kind).toBe('pglite');
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
});
