// Statements PostgreSQL rolled back for a retry run again; every other failure surfaces at once.
import { describe, expect, it } from 'vitest';
import { retryRolledBack } from './retry';

const failing = (codes: string[]) => {
  let calls = 0;
  return {
    run: async () => {
      const code = codes[calls++];
      if (code) throw Object.assign(new Error(`failed with ${code}`), { code });
      return 'ok';
    },
    calls: () => calls,
  };
};

describe('retryRolledBack', () => {
  it('runs a deadlock victim or a serialization failure again', async () => {
    const s = failing(['40P01', '40001']);
    await expect(retryRolledBack(s.run)).resolves.toBe('ok');
    expect(s.calls()).toBe(3);
  });

  it('gives up after three attempts', async () => {
    const s = failing(['40P01', '40P01', '40P01', '40P01']);
    await expect(retryRolledBack(s.run)).rejects.toMatchObject({ code: '40P01' });
    expect(s.calls()).toBe(3);
  });

  it('does not retry anything else', async () => {
    const s = failing(['23505']);
    await expect(retryRolledBack(s.run)).rejects.toMatchObject({ code: '23505' });
    expect(s.calls()).toBe(1);
  });
});
