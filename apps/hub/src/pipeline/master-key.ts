// The hub's master key encrypts webhook secrets and write-back tokens before they reach the database
// (AES-256-GCM, "mck1:" envelopes bound to their slot). The key comes from MESHCODE_MASTER_KEY, or from
// MESHCODE_HOME/master.key (created 0600 on first use; refused when other users can read it).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'mck1:';
export const MASTER_KEY_FILE = 'master.key';

export class MasterKeyError extends Error {}

export interface MasterKeySource {
  /** MESHCODE_MASTER_KEY: 32 bytes as base64 or hex, or any passphrase (hashed to 32 bytes). */
  masterKey?: string | undefined;
  /** Directory of master.key when no key is given. */
  home: string;
}

function keyFromText(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const b64 = Buffer.from(trimmed, 'base64');
  if (b64.length === 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return b64;
  return createHash('sha256').update(`meshcode-master-key:${trimmed}`).digest();
}

function readOrCreate(home: string): Buffer {
  const path = join(home, MASTER_KEY_FILE);
  try {
    const info = statSync(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new MasterKeyError(
        `${path} is readable by other users (mode 0${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    return keyFromText(readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof MasterKeyError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MasterKeyError(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // O_EXCL: two hubs starting together must not write two different keys.
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, `${key.toString('base64')}\n`);
    closeSync(fd);
    chmodSync(path, 0o600);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return keyFromText(readFileSync(path, 'utf8'));
    throw err;
  }
}

/** Loads the key on first use only: a hub that never sees a webhook never creates master.key. */
export class MasterKeys {
  private key: Buffer | undefined;

  constructor(private readonly source: MasterKeySource) {}

  private get(): Buffer {
    this.key ??= this.source.masterKey ? keyFromText(this.source.masterKey) : readOrCreate(this.source.home);
    return this.key;
  }

  /** `slot` (e.g. "github:secret") is authenticated with the value, so an envelope cannot be moved to another slot. */
  encrypt(plain: string, slot: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.get(), iv);
    cipher.setAAD(Buffer.from(slot, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plaintext, or undefined when the envelope is malformed or was sealed by another master key. */
  decrypt(envelope: string, slot: string): string | undefined {
    if (!envelope.startsWith(PREFIX)) return undefined;
    const raw = Buffer.from(envelope.slice(PREFIX.length), 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.get(), raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(slot, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch (err) {
      if (err instanceof MasterKeyError) throw err;
      return undefined;
    }
  }
}
