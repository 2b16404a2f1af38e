// Replace a file atomically: write a temp file beside it, flush, rename over. Keeps the old file's mode, and writes
// through a symlink (dotfile managers link these configs) instead of replacing the link.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { EditorConfigError } from './errors';

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** The file's text, or null when it does not exist. */
export async function readTextOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw new EditorConfigError(
      'io',
      `Could not read ${file} (${errnoCode(err) ?? 'unknown error'}); check its permissions.`,
    );
  }
}

export async function writeFileAtomic(file: string, text: string): Promise<void> {
  let target = file;
  let mode: number | undefined;
  try {
    target = await realpath(file);
    mode = (await stat(target)).mode & 0o7777;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw ioError(file, err);
  }
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.meshcode-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'wx', mode ?? 0o666);
    try {
      if (mode !== undefined && process.platform !== 'win32') await handle.chmod(mode);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw ioError(file, err);
  }
}

function ioError(file: string, err: unknown): EditorConfigError {
  return new EditorConfigError(
    'io',
    `Could not write ${file} (${errnoCode(err) ?? 'unknown error'}); check that its folder exists and is writable.`,
  );
}
