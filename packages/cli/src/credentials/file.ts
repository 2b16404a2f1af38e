// The fallback credentials file: ${home}/credentials.json, 0600 inside a 0700 directory, replaced atomically.
// Reading refuses a file or directory that other users can reach, the way ssh refuses a loose private key.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CredentialError } from './errors';

const fileSchema = z.object({ version: z.literal(1), keys: z.record(z.string(), z.string()) });

const checksModes = process.platform !== 'win32';

export function shellQuote(value: string): string {
  return /^[\w/.,:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function ioError(action: string, target: string, err: unknown): CredentialError {
  const code = errnoCode(err) ?? 'unknown error';
  return new CredentialError(
    'io',
    `Could not ${action} ${target} (${code}); check that you own it and it is writable.`,
  );
}

export class CredentialFile {
  readonly path: string;

  constructor(readonly home: string) {
    this.path = path.join(home, 'credentials.json');
  }

  /** The stored keys by normalized hub URL; empty when there is no file. */
  async read(): Promise<Record<string, string>> {
    const fileStat = await stat(this.path).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return null;
      throw ioError('read', this.path, err);
    });
    if (fileStat === null) return {};
    await this.assertPrivateDir();
    if (checksModes && (fileStat.mode & 0o077) !== 0) {
      throw new CredentialError(
        'insecure_permissions',
        `Refusing to read ${this.path} because other users can access it (mode ${octal(fileStat.mode)}); run \`chmod 600 ${shellQuote(this.path)}\` and try again.`,
      );
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw ioError('read', this.path, err);
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch {
      throw new CredentialError(
        'corrupt_file',
        `${this.path} is not a valid MeshCode credentials file; delete it and run \`meshcode login <key>\` again.`,
      );
    }
    return parsed.keys;
  }

  /** Replaces the file with these keys (deletes it when none are left). */
  async write(keys: Record<string, string>): Promise<void> {
    if (Object.keys(keys).length === 0) {
      await unlink(this.path).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw ioError('delete', this.path, err);
      });
      return;
    }
    try {
      await mkdir(this.home, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError('create', this.home, err);
    }
    await this.assertPrivateDir();
    const tmp = path.join(this.home, `.credentials.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      // 'wx' with mode 0600: the temp file is private from the moment it exists, so the secret is never world-readable.
      const handle = await open(tmp, 'wx', 0o600);
      try {
        if (checksModes) await handle.chmod(0o600);
        await handle.writeFile(`${JSON.stringify({ version: 1, keys }, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw ioError('write', this.path, err);
    }
  }

  private async assertPrivateDir(): Promise<void> {
    if (!checksModes) return;
    let dirStat;
    try {
      dirStat = await stat(this.home);
    } catch (err) {
      throw ioError('read', this.home, err);
    }
    if ((dirStat.mode & 0o077) !== 0) {
      throw new CredentialError(
        'insecure_permissions',
        `Refusing to use ${this.path} because its directory is open to other users (mode ${octal(dirStat.mode)}); run \`chmod 700 ${shellQuote(this.home)}\` and try again.`,
      );
    }
  }
}
