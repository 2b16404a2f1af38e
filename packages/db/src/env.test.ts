import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDbEnv, pgliteDataDir } from './env';

describe('loadDbEnv', () => {
  it('defaults to embedded PGlite under ~/.meshcode', () => {
    const env = loadDbEnv({});
    expect(env).toEqual({ DATABASE_URL: undefined, MESHCODE_HOME: join(homedir(), '.meshcode') });
    expect(pgliteDataDir(env)).toBe(join(homedir(), '.meshcode', 'pglite'));
    expect(loadDbEnv({ DATABASE_URL: '  ' }).DATABASE_URL).toBeUndefined();
  });

  it('accepts postgres:// and postgresql:// URLs', () => {
    for (const url of ['postgres://u:p@localhost:5432/db', 'postgresql://db.example.com/postgres?sslmode=require']) {
      expect(loadDbEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
  });

  it('rejects another scheme in one sentence that names the variable and hides the password', () => {
    let message = '';
    try {
      loadDbEnv({ DATABASE_URL: 'mysql://root:hunter2@localhost/db' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL.*\.$/);
    expect(message).not.toContain('hunter2');
  });

  it('expands ~ and resolves a relative MESHCODE_HOME', () => {
    expect(loadDbEnv({ MESHCODE_HOME: '~/mc' }).MESHCODE_HOME).toBe(join(homedir(), 'mc'));
    expect(loadDbEnv({ MESHCODE_HOME: 'rel/dir' }).MESHCODE_HOME).toBe(resolve('rel/dir'));
  });
});
