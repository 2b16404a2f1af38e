// Which host directories may be bind-mounted read-write into a worker container.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export interface MountContext {
  home: string;
  meshcodeHome: string;
}

const SYSTEM = [
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/run',
  '/var/run',
  '/var/lib/docker',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/private/etc',
  '/private/var/run',
];
const HOME_SECRETS = [
  '.ssh',
  '.aws',
  '.gnupg',
  '.kube',
  '.docker',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.netrc',
  '.npmrc',
  '.pypirc',
];
const SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export type MountCheck = { ok: true; path: string } | { ok: false; error: string };

/**
 * Refuses a directory that is, or is inside, a system or credential location (/etc, ~/.ssh, MESHCODE_HOME, the
 * Docker socket's folder), and one that contains such a location (/, the home directory, /var).
 */
export function checkMountSource(path: string, context: MountContext): MountCheck {
  if (!isAbsolute(path)) return { ok: false, error: `The workspace "${path}" must be an absolute path.` };
  let resolved: string;
  try {
    resolved = realpathSync(path);
  } catch {
    return { ok: false, error: `The workspace ${path} does not exist; create it or fix docker.cwd.` };
  }
  if (!statSync(resolved).isDirectory()) return { ok: false, error: `The workspace ${path} is not a directory.` };

  const inside = [
    ...SYSTEM,
    ...HOME_SECRETS.map((entry) => join(context.home, entry)),
    context.meshcodeHome,
    ...SOCKETS,
  ];
  for (const candidate of inside) {
    for (const form of new Set([candidate, real(candidate)])) {
      if (within(resolved, form)) {
        return { ok: false, error: refusal(path, `it is inside ${candidate}`) };
      }
    }
  }
  const contained = [context.home, ...inside];
  for (const candidate of contained) {
    for (const form of new Set([candidate, real(candidate)])) {
      if (form !== sep && within(form, resolved)) {
        return { ok: false, error: refusal(path, `it contains ${candidate}`) };
      }
    }
  }
  return { ok: true, path: resolved };
}

function refusal(path: string, why: string): string {
  return `Refusing to mount ${path} into a worker container: ${why}; point docker.cwd at a project directory.`;
}
