// The MCP server entry MeshCode puts in editor configs, and the guard that keeps secrets out of it.
import { EditorConfigError } from './errors';

export const SERVER_NAME = 'meshcode';

export interface ServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface MeshcodeEntryInput {
  /** How to start the meshcode binary: `{ command: 'meshcode' }` when on PATH, or node + the bin script. */
  launcher: { command: string; args?: string[] };
  project: string;
  agent: string;
  hubUrl: string;
  /** Written as MESHCODE_HOME only when the caller uses a non-default home. */
  meshcodeHome?: string;
}

export function meshcodeServerEntry(input: MeshcodeEntryInput): ServerEntry {
  return {
    command: input.launcher.command,
    args: [
      ...(input.launcher.args ?? []),
      'mcp',
      '--project',
      input.project,
      '--agent',
      input.agent,
      '--hub',
      input.hubUrl,
    ],
    env: input.meshcodeHome === undefined ? {} : { MESHCODE_HOME: input.meshcodeHome },
  };
}

const KEY_SHAPE = /(^|[^A-Za-z0-9_])mc_(?!inv_)[A-Za-z0-9_]{16,}/;

/** Config files are shared, synced and committed: an API key must never end up in one. */
export function assertNoSecrets(entry: ServerEntry, file: string): void {
  const leaks =
    'MESHCODE_API_KEY' in entry.env ||
    [entry.command, ...entry.args, ...Object.values(entry.env)].some((value) => KEY_SHAPE.test(value));
  if (leaks) {
    throw new EditorConfigError(
      'secret_in_entry',
      `Refusing to write an API key into ${file}; the MCP server reads the key from the keychain (or MESHCODE_API_KEY) at start.`,
    );
  }
}
