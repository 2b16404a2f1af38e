import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MasterKeyError, MasterKeys } from './master-key';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mc-master-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('MasterKeys', () => {
  it('creates master.key 0600 on first use and reads it back on the next start', async () => {
    const first = new MasterKeys({ home });
    const sealed = first.encrypt('s3cret', 'github:secret');
    expect(sealed).toMatch(/^mck1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('s3cret');
    expect((await stat(join(home, 'master.key'))).mode & 0o777).toBe(0o600);
    expect(new MasterKeys({ home }).decrypt(sealed, 'github:secret')).toBe('s3cret');
  });

  it('binds an envelope to its slot and to its key', () => {
    const keys = new MasterKeys({ home, masterKey: 'a passphrase of some length' });
    const sealed = keys.encrypt('tok', 'github:token');
    expect(keys.decrypt(sealed, 'gitlab:token')).toBeUndefined();
    expect(
      new MasterKeys({ home, masterKey: 'another passphrase here' }).decrypt(sealed, 'github:token'),
    ).toBeUndefined();
    expect(keys.decrypt(`${sealed.slice(0, -2)}AA`, 'github:token')).toBeUndefined();
    expect(keys.decrypt('plain', 'github:token')).toBeUndefined();
  });

  it('never touches the disk when MESHCODE_MASTER_KEY is given', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const keys = new MasterKeys({ home, masterKey: key });
    expect(keys.decrypt(keys.encrypt('x', 's'), 's')).toBe('x');
    await expect(stat(join(home, 'master.key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a master.key other users can read', async () => {
    await writeFile(join(home, 'master.key'), `${Buffer.alloc(32, 1).toString('base64')}\n`);
    await chmod(join(home, 'master.key'), 0o644);
    expect(() => new MasterKeys({ home }).encrypt('x', 's')).toThrow(MasterKeyError);
    expect(() => new MasterKeys({ home }).encrypt('x', 's')).toThrow(/chmod 600/);
    expect(await readFile(join(home, 'master.key'), 'utf8')).toContain('AQEB');
  });
});
