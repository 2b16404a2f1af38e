// An agent's local workspace: MESHCODE_HOME/<project>-<agent>/ with the editor's MCP config and a meshcode.json
// recording project, agent, hub and editor. Everything here is local and idempotent; the hub side lives in setup.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Context } from './common';
import {
  createPathLookup,
  detectEditors,
  editorById,
  meshcodeServerEntry,
  writeEditorConfig,
  type ConfigChange,
  type EditorId,
  type EditorPaths,
  type EditorSpec,
  EDITOR_IDS,
} from './editors';
import { writeFileAtomic } from './editors/atomic';
import { CliError, EXIT } from './errors';

export const RECORD_FILE = 'meshcode.json';
const BIN = fileURLToPath(new URL('../bin/meshcode.js', import.meta.url));

const Record = z.object({
  version: z.literal(1),
  project: z.string(),
  agent: z.string(),
  hub: z.string(),
  editor: z.enum(EDITOR_IDS as [EditorId, ...EditorId[]]),
});
export type WorkspaceRecord = z.infer<typeof Record>;

export interface Workspace {
  dir: string;
  record: WorkspaceRecord;
}

const pathEnv = z.object({
  HOME: z.string().min(1).optional(),
  USERPROFILE: z.string().min(1).optional(),
  APPDATA: z.string().min(1).optional(),
  PATH: z.string().optional(),
  MESHCODE_HOME: z.string().min(1).optional(),
});

function envOf(ctx: Context) {
  return pathEnv.parse(ctx.env.raw);
}

/** The user's home directory (global editor configs live under it); HOME in the env passed to the CLI wins. */
export function userHome(ctx: Context): string {
  const env = envOf(ctx);
  return env.HOME ?? env.USERPROFILE ?? homedir();
}

export function editorPaths(ctx: Context, workspaceDir: string): EditorPaths {
  return { workspaceDir, home: userHome(ctx), appData: envOf(ctx).APPDATA };
}

export function workspaceDir(ctx: Context, project: string, agent: string): string {
  return path.resolve(ctx.env.home, `${project}-${agent}`);
}

/** MESHCODE_HOME, private: the credentials fallback file refuses a directory other users can enter. */
export async function ensureHome(ctx: Context): Promise<void> {
  await mkdir(ctx.env.home, { recursive: true, mode: 0o700 });
}

export async function readWorkspace(dir: string): Promise<WorkspaceRecord | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, RECORD_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = Record.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Every workspace under MESHCODE_HOME (folders with a valid meshcode.json), by folder name. */
export async function listWorkspaces(ctx: Context): Promise<Workspace[]> {
  let entries;
  try {
    entries = await readdir(ctx.env.home, { withFileTypes: true });
  } catch {
    return [];
  }
  const found = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => {
        const dir = path.resolve(ctx.env.home, e.name);
        const record = await readWorkspace(dir);
        return record === null ? null : { dir, record };
      }),
  );
  return found.filter((w): w is Workspace => w !== null).sort((a, b) => a.dir.localeCompare(b.dir));
}

export async function findWorkspaces(ctx: Context, agent: string, project?: string): Promise<Workspace[]> {
  return (await listWorkspaces(ctx)).filter(
    (w) => w.record.agent === agent && (project === undefined || w.record.project === project),
  );
}

/**
 * How editor configs start the CLI. Editors spawn it from their own folder and GUI apps often lack the shell's PATH,
 * so the path is absolute: the `meshcode` on PATH when there is one, else this node and this package's bin script.
 */
export async function resolveLauncher(ctx: Context): Promise<{ command: string; args?: string[] }> {
  const onPath = await createPathLookup({ path: envOf(ctx).PATH })('meshcode');
  return onPath !== null ? { command: onPath } : { command: process.execPath, args: [BIN] };
}

export interface EditorChoice {
  editor: EditorSpec;
  /** Absolute path of its launcher; null when it is not installed (or cannot be launched from a CLI). */
  binaryPath: string | null;
  /** How it was chosen, for messages. */
  reason: 'flag' | 'env' | 'recorded' | 'detected' | 'default';
}

/**
 * Which editor an agent's workspace is for: --editor, then MESHCODE_EDITOR, then the one recorded for the workspace if
 * still installed, then the first installed one; with none installed, Claude Code (the default) gets the config.
 */
export async function chooseEditor(ctx: Context, flag?: string, recorded?: EditorId): Promise<EditorChoice> {
  const env = flag === undefined ? ctx.env.raw : { ...ctx.env.raw, MESHCODE_EDITOR: flag };
  const detected = await detectEditors({ env, home: userHome(ctx), appData: envOf(ctx).APPDATA });
  const forced = detected.find((d) => d.forced);
  if (forced !== undefined) {
    return { editor: forced.editor, binaryPath: forced.binaryPath, reason: flag === undefined ? 'env' : 'flag' };
  }
  const mine = detected.find((d) => d.editor.id === recorded);
  if (mine !== undefined) return { editor: mine.editor, binaryPath: mine.binaryPath, reason: 'recorded' };
  const first = detected[0];
  if (first !== undefined) return { editor: first.editor, binaryPath: first.binaryPath, reason: 'detected' };
  return { editor: editorById('claude-code'), binaryPath: null, reason: 'default' };
}

export interface EnsureResult {
  dir: string;
  record: WorkspaceRecord;
  config: ConfigChange;
  /** True when meshcode.json was created or changed. */
  recordChanged: boolean;
  created: boolean;
}

/** Creates or updates the workspace folder, the editor's MCP config and meshcode.json; writes nothing unchanged. */
export async function ensureWorkspace(
  ctx: Context,
  input: { project: string; agent: string; editor: EditorSpec },
): Promise<EnsureResult> {
  const dir = workspaceDir(ctx, input.project, input.agent);
  await ensureHome(ctx);
  const existing = await readWorkspace(dir);
  if (existing !== null && (existing.project !== input.project || existing.agent !== input.agent)) {
    throw new CliError(
      `${dir} already holds the workspace of agent '${existing.agent}' in project '${existing.project}'`,
      EXIT.failure,
      'rename one of the agents, or move that folder aside',
    );
  }
  await mkdir(dir, { recursive: true });
  const home = envOf(ctx).MESHCODE_HOME;
  const entry = meshcodeServerEntry({
    launcher: await resolveLauncher(ctx),
    project: input.project,
    agent: input.agent,
    hubUrl: ctx.hubUrl,
    // The MCP server must find the same credentials file and workspaces when a non-default home is in use.
    meshcodeHome:
      home !== undefined && path.resolve(home) !== path.join(homedir(), '.meshcode') ? path.resolve(home) : undefined,
  });
  const config = await writeEditorConfig(input.editor, { ...editorPaths(ctx, dir), entry });
  const record: WorkspaceRecord = {
    version: 1,
    project: input.project,
    agent: input.agent,
    hub: ctx.hubUrl,
    editor: input.editor.id,
  };
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const before = await readFile(path.join(dir, RECORD_FILE), 'utf8').catch(() => null);
  if (before !== text) await writeFileAtomic(path.join(dir, RECORD_FILE), text);
  return { dir, record, config, recordChanged: before !== text, created: existing === null };
}
