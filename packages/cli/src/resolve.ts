// Names typed by the user: validated like the hub does, and an unknown project answered with the closest real ones.
import { distance } from 'fastest-levenshtein';
import { MeshError, type MeshClient } from '@meshcode/client';
import type { Meshwork } from '@meshcode/protocol';
import { CliError, EXIT } from './errors';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Lowercases and checks a project or agent name (the hub's rule); it also becomes part of a folder name. */
export function checkName(kind: 'project' | 'agent', value: string): string {
  const name = value.trim().toLowerCase();
  if (!NAME.test(name)) {
    throw new CliError(
      `${kind} name '${value}' is not valid`,
      EXIT.usage,
      'use 1-63 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return name;
}

/** Up to `max` names close to `wanted`, closest first; names that are clearly unrelated are left out. */
export function closestNames(wanted: string, names: readonly string[], max = 3): string[] {
  const w = wanted.toLowerCase();
  return [...new Set(names)]
    .map((name) => ({ name, d: distance(w, name), contains: name.includes(w) || w.includes(name) }))
    .filter((c) => c.contains || c.d <= Math.max(2, Math.floor(Math.max(w.length, c.name.length) / 3)))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((c) => c.name);
}

export function projectNotFound(wanted: string, names: readonly string[]): CliError {
  const close = closestNames(wanted, names);
  const hint =
    names.length === 0
      ? 'you have no projects yet; create one with meshcode setup <project> <agent> or meshcode go <agent>'
      : close.length > 0
        ? `did you mean ${close.map((n) => `'${n}'`).join(' or ')}? (meshcode projects lists yours)`
        : `your projects: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`;
  return new CliError(`could not resolve project '${wanted}': project not found`, EXIT.failure, hint);
}

function isUnknownProject(err: unknown): err is MeshError {
  return err instanceof MeshError && err.status === 404 && err.message.startsWith('could not resolve project');
}

/** Runs a call that names a project; the hub's "could not resolve project" becomes the same error with suggestions. */
export async function withProject<T>(client: MeshClient, project: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isUnknownProject(err)) throw err;
    // The hub lists the caller's project names in `details`; ask for them when an older hub does not.
    const names = err.details
      ? err.details
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : (await client.listMeshworks().catch(() => [])).map((m) => m.name);
    throw projectNotFound(project, names);
  }
}

/** The projects (from mc_list_meshworks) that have an agent with this name. */
export function projectsWithAgent(meshworks: readonly Meshwork[], agent: string): Meshwork[] {
  return meshworks.filter((m) => m.agents.some((a) => a.name === agent));
}
