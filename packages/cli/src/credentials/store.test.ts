// The file fallback, exercised with the real keychain binding and no D-Bus session to reach.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialError, createCredentialStore } from './index';

const HUB = 'http://localhost:7700';
const KEY = 'mc_4fT9kQ2mZx8Lw1Np0Rs7Vb3Yc6';
const onLinux = process.platform === 'linux';
if (!onLinux)
  console.warn(
    'credentials fallback tests skipped: they cut the Secret Service off through D-Bus, which is Linux-only',
  );

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe.skipIf(!onLinux)('credential store without a keychain', () => {
  let root: string;
  let home: string;
  const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;

  beforeAll(() => {
    // The binding reads the bus address from the process environment: point it at a socket that does not exist.
    process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/meshcode-test-bus';
  });
  afterAll(() => {
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
  });
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mc-cred-'));
    home = path.join(root, 'meshcode-home');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores the key in a 0600 file inside a 0700 directory, with a warning, and reads it back', async () => {
    const previousUmask = process.umask(0); // the modes must come from the code, not from a friendly umask
    let result;
    try {
      result = await createCredentialStore({ home, env: {} }).set(HUB, KEY);
    } finally {
      process.umask(previousUmask);
    }
    const file = path.join(home, 'credentials.json');
    expect(result.source).toBe('file');
    expect(result.location).toBe(file);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('The OS keychain is unavailable');
    expect(result.warnings[0]).toContain(file);
    expect(result.warnings[0]).not.toMatch(/\n\s+at /);
    expect(await mode(home)).toBe(0o700);
    expect(await mode(file)).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, keys: { [HUB]: KEY } });
    expect(await readdir(home)).toEqual(['credentials.json']);

    const got = await createCredentialStore({ home, env: {} }).get(`${HUB}/`);
    expect(got.credential).toEqual({ key: KEY, source: 'file', location: file });
    expect(got.warnings[0]).toContain('read from');
    const where = await createCredentialStore({ home, env: {} }).where(HUB);
    expect(where).toMatchObject({ source: 'file', found: true, location: file });
  });

  it('keeps keys for several hubs apart and deletes the file when the last one goes', async () => {
    const store = createCredentialStore({ home, env: {} });
    await store.set(HUB, KEY);
    await store.set('https://mesh.example.com', 'mc_other0000');
    expect((await store.get('https://MESH.example.com/')).credential?.key).toBe('mc_other0000');
    expect(await store.delete(HUB)).toMatchObject({ removed: ['file'] });
    expect((await store.get(HUB)).credential).toBeNull();
    await store.delete('https://mesh.example.com');
    expect(await readdir(home)).toEqual([]);
    expect(await store.where(HUB)).toMatchObject({ source: 'file', found: false });
  });

  it('refuses a credentials file other users can read, naming the chmod to run', async () => {
    const store = createCredentialStore({ home, env: {} });
    await store.set(HUB, KEY);
    const file = path.join(home, 'credentials.json');
    await chmod(file, 0o644);
    const refused = await store.get(HUB).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CredentialError);
    expect((refused as CredentialError).code).toBe('insecure_permissions');
    expect((refused as CredentialError).message).toContain(`chmod 600 ${file}`);
    await expect(store.set(HUB, 'mc_new11111')).rejects.toThrow(`chmod 600 ${file}`);
    await chmod(file, 0o600);
    expect((await store.get(HUB)).credential?.key).toBe(KEY);
  });

  it('refuses a directory other users can enter, for reading and for writing', async () => {
    const store = createCredentialStore({ home, env: {} });
    await store.set(HUB, KEY);
    await chmod(home, 0o755);
    await expect(store.get(HUB)).rejects.toThrow(`chmod 700 ${home}`);
    await rm(path.join(home, 'credentials.json'));
    await expect(store.set(HUB, KEY)).rejects.toThrow(`chmod 700 ${home}`);
    expect(await readdir(home)).toEqual([]);
  });

  it('lets MESHCODE_API_KEY win over the stored key', async () => {
    await createCredentialStore({ home, env: {} }).set(HUB, KEY);
    const store = createCredentialStore({ home, env: { MESHCODE_API_KEY: ' mc_fromEnv123 ' } });
    expect((await store.get(HUB)).credential).toEqual({
      key: 'mc_fromEnv123',
      source: 'env',
      location: 'MESHCODE_API_KEY',
    });
    expect(await store.where(HUB)).toMatchObject({ source: 'env', found: true });
    const deleted = await store.delete(HUB);
    expect(deleted.removed).toEqual(['file']);
    expect(deleted.warnings.join(' ')).toContain('MESHCODE_API_KEY is still set');
  });

  it('checks key shapes and the environment variable', async () => {
    const store = createCredentialStore({ home, env: { MESHCODE_API_KEY: '' } });
    await expect(store.set(HUB, 'sk-not-ours')).rejects.toMatchObject({ code: 'invalid_key' });
    await expect(store.set(HUB, 'mc_inv_abc123')).rejects.toThrow('meshcode join');
    await expect(store.set('not a url', KEY)).rejects.toMatchObject({ code: 'invalid_hub_url' });
    expect(() => createCredentialStore({ home, env: { MESHCODE_API_KEY: 'oops' } })).toThrow(/^MESHCODE_API_KEY/);
    await expect(stat(home)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a corrupt file instead of overwriting it', async () => {
    await mkdir(home, { mode: 0o700 });
    const file = path.join(home, 'credentials.json');
    await writeFile(file, '{"version":1,"keys":', { mode: 0o600 });
    const store = createCredentialStore({ home, env: {} });
    await expect(store.get(HUB)).rejects.toMatchObject({ code: 'corrupt_file' });
    await expect(store.set(HUB, KEY)).rejects.toMatchObject({ code: 'corrupt_file' });
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"keys":');
  });
});
