// Write, remove and read MeshCode's MCP server entry in an editor's config file.
import { z } from 'zod';
import { readTextOrNull, writeFileAtomic } from './atomic';
import { assertNoSecrets, SERVER_NAME, type ServerEntry } from './entry';
import { EditorConfigError } from './errors';
import { readJsonEntry, removeJsonEntry, upsertJsonEntry, type JsonTarget } from './json-config';
import { editorById, type EditorId, type EditorPaths, type EditorSpec } from './table';
import { readTomlEntry, removeTomlEntry, upsertTomlEntry } from './toml-config';

export interface WriteEditorConfigOptions extends EditorPaths {
  entry: ServerEntry;
}

export interface ConfigChange {
  path: string;
  /** False when the file already said exactly this (nothing was written). */
  changed: boolean;
}

function spec(editor: EditorSpec | EditorId): EditorSpec {
  return typeof editor === 'string' ? editorById(editor) : editor;
}

function jsonTarget(editor: EditorSpec, file: string): JsonTarget {
  return { file, jsonc: editor.format === 'jsonc', serversKey: editor.serversKey, name: SERVER_NAME };
}

/** The keys MeshCode owns in its entry, in the order it writes them; undefined removes a key. */
function ownedFields(editor: EditorSpec, entry: ServerEntry): Record<string, unknown> {
  return {
    ...(editor.typedEntries ? { type: 'stdio' } : {}),
    command: entry.command,
    args: entry.args,
    env: Object.keys(entry.env).length > 0 ? entry.env : undefined,
  };
}

export function editorConfigPath(editor: EditorSpec | EditorId, paths: EditorPaths): string {
  return spec(editor).configPath(paths);
}

export async function writeEditorConfig(
  editor: EditorSpec | EditorId,
  options: WriteEditorConfigOptions,
): Promise<ConfigChange> {
  const e = spec(editor);
  const file = e.configPath(options);
  assertNoSecrets(options.entry, file);
  const before = await readTextOrNull(file);
  const fields = ownedFields(e, options.entry);
  const after =
    e.format === 'toml'
      ? upsertTomlEntry(before, { file, serversKey: e.serversKey, name: SERVER_NAME }, fields)
      : upsertJsonEntry(before, jsonTarget(e, file), fields);
  if (after === before) return { path: file, changed: false };
  await writeFileAtomic(file, after);
  return { path: file, changed: true };
}

export async function removeEditorConfig(editor: EditorSpec | EditorId, paths: EditorPaths): Promise<ConfigChange> {
  const e = spec(editor);
  const file = e.configPath(paths);
  const before = await readTextOrNull(file);
  if (before === null) return { path: file, changed: false };
  const after =
    e.format === 'toml'
      ? removeTomlEntry(before, { file, serversKey: e.serversKey, name: SERVER_NAME })
      : removeJsonEntry(before, jsonTarget(e, file));
  if (after === null || after === before) return { path: file, changed: false };
  await writeFileAtomic(file, after);
  return { path: file, changed: true };
}

const storedEntry = z.object({
  command: z.string(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
});

/** What the written config tells the editor to spawn, so a test can spawn exactly that; null when there is no entry. */
export async function readServerEntry(editor: EditorSpec | EditorId, paths: EditorPaths): Promise<ServerEntry | null> {
  const e = spec(editor);
  const file = e.configPath(paths);
  const text = await readTextOrNull(file);
  if (text === null) return null;
  const raw =
    e.format === 'toml'
      ? readTomlEntry(text, { file, serversKey: e.serversKey, name: SERVER_NAME })
      : readJsonEntry(text, jsonTarget(e, file));
  if (raw === undefined) return null;
  const parsed = storedEntry.safeParse(raw);
  if (!parsed.success) {
    throw new EditorConfigError(
      'malformed',
      `The "${SERVER_NAME}" entry in ${file} has no valid command, args and env; run \`meshcode setup\` again to rewrite it.`,
    );
  }
  return parsed.data;
}
