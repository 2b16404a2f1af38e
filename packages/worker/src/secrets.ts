// Worker secrets live in MESHCODE_HOME/secrets.yml on the worker's machine (file 0600 in a 0700 directory).
// Worker definitions carry only names ("openai.default"); this module turns names into values.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';

export const SECRETS_FILE = 'secrets.yml';

export type SecretLookup = { ok: true; value: string } | { ok: false; error: string };

export interface Secrets {
  readonly path: string;
  resolve(ref: string): SecretLookup;
  /** Secret names (never values), for listings. */
  names(): string[];
}

export type LoadSecretsResult = { ok: true; secrets: Secrets } | { ok: false; error: string };

export function secretsPath(meshcodeHome: string): string {
  return join(meshcodeHome, SECRETS_FILE);
}

function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./~-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Refuses a directory or file that other users can read or write, naming the exact chmod to run. */
async function checkPermissions(meshcodeHome: string, file: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const uid = process.getuid?.();
  const dir = await stat(meshcodeHome);
  if ((dir.mode & 0o077) !== 0) {
    return `${meshcodeHome} is open to other users (mode ${octal(dir.mode)}); run: chmod 700 ${shellQuote(meshcodeHome)}`;
  }
  const info = await stat(file);
  if (!info.isFile()) return `${file} is not a regular file; replace it with a file holding your secrets.`;
  if (uid !== undefined && info.uid !== uid) {
    return `${file} belongs to another user (uid ${info.uid}); run: chown ${uid} ${shellQuote(file)}`;
  }
  if ((info.mode & 0o077) !== 0) {
    return `${file} is readable by other users (mode ${octal(info.mode)}); run: chmod 600 ${shellQuote(file)}`;
  }
  return undefined;
}

/** Loads secrets.yml; a missing file is an empty store (a lookup then says where to add the secret). */
export async function loadSecrets(meshcodeHome: string): Promise<LoadSecretsResult> {
  const path = secretsPath(meshcodeHome);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, secrets: store(path, {}) };
    return { ok: false, error: `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).` };
  }
  const refused = await checkPermissions(meshcodeHome, path);
  if (refused) return { ok: false, error: refused };
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first?.linePos?.[0]?.line;
    return { ok: false, error: `${path}${line ? `:${line}` : ''} is not valid YAML; fix the file and retry.` };
  }
  const data: unknown = doc.toJS();
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    return { ok: false, error: `${path} must be a mapping such as "openai: { default: sk-... }".` };
  }
  return { ok: true, secrets: store(path, (data ?? {}) as Record<string, unknown>) };
}

function store(path: string, data: Record<string, unknown>): Secrets {
  return {
    path,
    resolve(ref) {
      const value = Object.hasOwn(data, ref) ? data[ref] : walk(data, ref.split('.'));
      if (typeof value === 'string' && value.length > 0) return { ok: true, value };
      if (typeof value === 'number') return { ok: true, value: String(value) };
      const [group, ...rest] = ref.split('.');
      const hint = rest.length ? `"${group}:" then "  ${rest.join('.')}: <value>"` : `"${ref}: <value>"`;
      return { ok: false, error: `Secret "${ref}" is not in ${path}; add ${hint} to it.` };
    },
    names() {
      const out: string[] = [];
      const visit = (node: unknown, prefix: string) => {
        if (node && typeof node === 'object' && !Array.isArray(node)) {
          for (const [key, child] of Object.entries(node)) visit(child, prefix ? `${prefix}.${key}` : key);
        } else if (prefix) {
          out.push(prefix);
        }
      };
      visit(data, '');
      return out.sort();
    },
  };
}

function walk(data: unknown, path: string[]): unknown {
  let current = data;
  for (const segment of path) {
    if (!current || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Adds or replaces one secret, keeping the file's comments; creates the directory 0700 and the file 0600. */
export async function writeSecret(meshcodeHome: string, ref: string, value: string): Promise<LoadSecretsResult> {
  if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(ref)) {
    return { ok: false, error: `"${ref}" is not a secret name; use letters, digits, "_" and "-", grouped with dots.` };
  }
  await mkdir(meshcodeHome, { recursive: true, mode: 0o700 });
  await chmod(meshcodeHome, 0o700);
  const path = secretsPath(meshcodeHome);
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const doc = parseDocument(text || '{}');
  if (doc.errors.length > 0) return { ok: false, error: `${path} is not valid YAML; fix it before adding secrets.` };
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as never;
  doc.setIn(ref.split('.'), value);
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, doc.toString(), { mode: 0o600 });
  await rename(temporary, path);
  return loadSecrets(meshcodeHome);
}
