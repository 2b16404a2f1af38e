import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkMountSource, type MountContext } from './mounts';

let root: string;
let context: MountContext;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'meshcode-mounts-'));
  const home = join(root, 'home');
  context = { home, meshcodeHome: join(home, '.meshcode') };
  await mkdir(join(home, '.ssh'), { recursive: true });
  await mkdir(join(home, '.meshcode'), { recursive: true });
  await mkdir(join(home, 'src', 'api'), { recursive: true });
  await symlink('/etc', join(home, 'src', 'sneaky'));
  await symlink(join(home, '.ssh'), join(home, 'src', 'keys'));
  await writeFile(join(home, 'src', 'file.txt'), 'x');
});

describe('checkMountSource', () => {
  it('accepts a project directory and returns its real path', () => {
    expect(checkMountSource(join(context.home, 'src', 'api'), context)).toEqual({
      ok: true,
      path: join(context.home, 'src', 'api'),
    });
  });

  it.each([
    ['/', 'contains'],
    ['/etc', 'inside /etc'],
    ['/proc', 'inside /proc'],
  ])('refuses the system path %s', (path, why) => {
    const result = checkMountSource(path, context);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(why);
  });

  it('refuses the home directory, ~/.ssh, MESHCODE_HOME and symlinks into them', () => {
    for (const path of [
      context.home,
      join(context.home, '.ssh'),
      context.meshcodeHome,
      join(context.home, 'src', 'sneaky'),
      join(context.home, 'src', 'keys'),
    ]) {
      const result = checkMountSource(path, context);
      expect(result, path).toMatchObject({ ok: false, error: expect.stringMatching(/^Refusing to mount /) });
    }
  });

  it('refuses the folder holding the Docker socket', () => {
    expect(checkMountSource('/var/run', context).ok).toBe(false);
    expect(checkMountSource('/run', context).ok).toBe(false);
  });

  it('rejects relative, missing and non-directory paths with a reason', () => {
    expect(checkMountSource('src/api', context)).toMatchObject({ ok: false, error: expect.stringMatching(/absolute/) });
    expect(checkMountSource(join(root, 'nope'), context)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/does not exist/),
    });
    expect(checkMountSource(join(context.home, 'src', 'file.txt'), context)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a directory/),
    });
  });
});
