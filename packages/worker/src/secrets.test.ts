import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadSecrets, secretsPath, writeSecret } from './secrets';

let home: string;

beforeEach(async () => {
  home = join(await mkdtemp(join(tmpdir(), 'meshcode-secrets-')), 'home');
  await mkdir(home, { mode: 0o700 });
  await chmod(home, 0o700);
});

async function writeFileWithMode(text: string, mode: number) {
  await writeFile(secretsPath(home), text);
  await chmod(secretsPath(home), mode);
}

describe.skipIf(process.platform === 'win32')('loadSecrets', () => {
  it('resolves grouped and flat references', async () => {
    await writeFileWithMode(
      '# worker tokens\nopenai:\n  default: sk-test-aaaaaaaaaaaaaaaaaaaa\ngithub.bot: ghp_x\nport: 8080\n',
      0o600,
    );
    const loaded = await loadSecrets(home);
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.secrets.resolve('openai.default')).toEqual({ ok: true, value: 'sk-test-aaaaaaaaaaaaaaaaaaaa' });
    expect(loaded.secrets.resolve('github.bot')).toEqual({ ok: true, value: 'ghp_x' });
    expect(loaded.secrets.names()).toEqual(['github.bot', 'openai.default', 'port']);
    const missing = loaded.secrets.resolve('anthropic.default');
    expect(missing).toEqual({
      ok: false,
      error: `Secret "anthropic.default" is not in ${secretsPath(home)}; add "anthropic:" then "  default: <value>" to it.`,
    });
  });

  it('refuses a file readable by others, naming the exact chmod', async () => {
    await writeFileWithMode('openai:\n  default: x\n', 0o644);
    expect(await loadSecrets(home)).toEqual({
      ok: false,
      error: `${secretsPath(home)} is readable by other users (mode 0644); run: chmod 600 ${secretsPath(home)}`,
    });
    await chmod(secretsPath(home), 0o640);
    expect(await loadSecrets(home)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/mode 0640\); run: chmod 600 /),
    });
  });

  it('refuses a directory open to others, naming the exact chmod', async () => {
    await writeFileWithMode('a: b\n', 0o600);
    await chmod(home, 0o755);
    expect(await loadSecrets(home)).toEqual({
      ok: false,
      error: `${home} is open to other users (mode 0755); run: chmod 700 ${home}`,
    });
  });

  it('treats a missing file as an empty store and reports bad YAML with its line', async () => {
    const empty = await loadSecrets(home);
    expect(empty.ok && empty.secrets.resolve('x.y').ok).toBe(false);
    await writeFileWithMode('openai:\n  default: [unclosed\n', 0o600);
    expect(await loadSecrets(home)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/secrets\.yml:\d+ is not valid YAML/),
    });
  });
});

describe.skipIf(process.platform === 'win32')('writeSecret', () => {
  it('creates the directory 0700 and the file 0600, keeps comments, and round-trips', async () => {
    const fresh = join(home, 'nested-home');
    const first = await writeSecret(fresh, 'openai.default', 'sk-one');
    expect(first.ok).toBe(true);
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
    expect((await stat(secretsPath(fresh))).mode & 0o777).toBe(0o600);
    await writeFile(secretsPath(fresh), `# keep me\n${await readFile(secretsPath(fresh), 'utf8')}`, { mode: 0o600 });
    const second = await writeSecret(fresh, 'github.bot', 'ghp_two');
    if (!second.ok) throw new Error(second.error);
    expect(second.secrets.resolve('openai.default')).toEqual({ ok: true, value: 'sk-one' });
    expect(second.secrets.resolve('github.bot')).toEqual({ ok: true, value: 'ghp_two' });
    expect(await readFile(secretsPath(fresh), 'utf8')).toMatch(/^# keep me/);
    expect((await stat(secretsPath(fresh))).mode & 0o777).toBe(0o600);
  });
});
