// The real Secret Service: a private D-Bus session with gnome-keyring, driven by separate child processes.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const child = path.join(here, 'testing/store-child.ts');
const HUB = 'http://localhost:7700';
const KEY = 'mc_Kc7Qp2Wx9Zt4Lm1Rb8Nv5Hj3Gd';
const OLD_KEY = 'mc_oldFileCopy9999';
const REQUIRED = ['dbus-run-session', 'gnome-keyring-daemon'];

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = process.platform === 'linux' ? REQUIRED.filter((bin) => !onPath(bin)) : REQUIRED;
const inCi = process.env.CI === 'true';
const skip = missing.length > 0 && !inCi;
if (skip) {
  console.warn(
    `Secret Service test skipped: ${missing.join(', ')} not found (needs Linux with apt packages gnome-keyring dbus dbus-user-session libsecret-1-0); it fails instead when CI=true.`,
  );
}

interface Step {
  op: string;
  result?: Record<string, unknown>;
  error?: string;
}

/** Runs the store child once per op inside one fresh D-Bus session with an unlocked gnome-keyring. */
function session(root: string, ops: string[][]): Step[] {
  const commands = ops.map((args) => `node --import tsx "$CHILD" ${args.map((a) => `'${a}'`).join(' ')}`);
  const script = ['echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null', ...commands].join('\n');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: path.join(root, 'home'),
    XDG_DATA_HOME: path.join(root, 'home/.local/share'),
    XDG_CONFIG_HOME: path.join(root, 'home/.config'),
    XDG_CACHE_HOME: path.join(root, 'home/.cache'),
    XDG_RUNTIME_DIR: path.join(root, 'run'),
    MESHCODE_HOME: path.join(root, 'home/.meshcode'),
    CHILD: child,
  };
  const out = spawnSync('dbus-run-session', ['--', 'sh', '-c', script], { cwd: repoRoot, env, encoding: 'utf8' });
  expect(out.error).toBeUndefined();
  const steps = out.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Step);
  expect(
    steps.map((s) => s.op),
    out.stderr,
  ).toEqual(ops.map((o) => o[0]));
  return steps;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe.skipIf(skip)('credential store on a real Secret Service', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mc-keyring-'));
    await mkdir(path.join(root, 'run'), { mode: 0o700 });
    await mkdir(path.join(root, 'home/.meshcode'), { recursive: true, mode: 0o700 });
    await chmod(path.join(root, 'home/.meshcode'), 0o700);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores, reads in another process and session, and deletes a key without writing it to any file', async () => {
    expect(missing, `missing binaries: ${missing.join(', ')}`).toEqual([]);
    const meshHome = path.join(root, 'home/.meshcode');
    const credFile = path.join(meshHome, 'credentials.json');
    // A copy left by an earlier login on a machine without a keychain.
    await writeFile(credFile, JSON.stringify({ version: 1, keys: { [HUB]: OLD_KEY } }), { mode: 0o600 });

    const first = session(root, [
      ['get', HUB],
      ['set', HUB, KEY],
      ['get', HUB],
      ['where', HUB],
    ]);
    expect(first[0]?.result).toMatchObject({ credential: { key: OLD_KEY, source: 'file' } });
    expect(String((first[0]?.result?.warnings as string[])[0])).toContain('move it into the keychain');
    expect(first[1]?.result).toMatchObject({ source: 'keychain', warnings: [] });
    expect(first[2]?.result).toMatchObject({ credential: { key: KEY, source: 'keychain' }, warnings: [] });
    expect(first[3]?.result).toMatchObject({ source: 'keychain', found: true });
    // The plaintext copy is gone once the keychain holds the key.
    await expect(stat(credFile)).rejects.toMatchObject({ code: 'ENOENT' });

    // Nothing under the home directories holds the key in clear (gnome-keyring's own files are encrypted).
    const files = await filesUnder(root);
    expect(files.some((f) => f.includes('/keyrings/'))).toBe(true);
    for (const file of files) {
      expect((await readFile(file)).includes(KEY), file).toBe(false);
    }

    // A new D-Bus session and keyring daemon: the key survived on disk, then delete removes it.
    const second = session(root, [
      ['get', HUB],
      ['delete', HUB],
      ['get', HUB],
      ['where', HUB],
    ]);
    expect(second[0]?.result).toMatchObject({ credential: { key: KEY, source: 'keychain' } });
    expect(second[1]?.result).toEqual({ removed: ['keychain'], warnings: [] });
    expect(second[2]?.result).toEqual({ credential: null, warnings: [] });
    expect(second[3]?.result).toMatchObject({ source: 'keychain', found: false });
  });
});
