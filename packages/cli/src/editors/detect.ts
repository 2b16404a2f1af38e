// Which editors are installed: binaries on PATH (Claude Desktop: its config folder), or the one MESHCODE_EDITOR names.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EditorConfigError } from './errors';
import { EDITORS, type EditorPaths, type EditorSpec } from './table';

/** Resolves a binary name to its absolute path, or null when it is not installed. */
export type PathLookup = (binary: string) => Promise<string | null> | string | null;

const envSchema = z.object({
  MESHCODE_EDITOR: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  PATH: z.string().optional(),
  PATHEXT: z.string().optional(),
  APPDATA: z.string().optional(),
});

export function createPathLookup(options: {
  path: string | undefined;
  pathExt?: string;
  platform?: NodeJS.Platform;
}): PathLookup {
  const platform = options.platform ?? process.platform;
  const delimiter = platform === 'win32' ? ';' : ':';
  const dirs = (options.path ?? '').split(delimiter).filter((d) => d !== '');
  const exts = platform === 'win32' ? (options.pathExt ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  return async (binary) => {
    for (const dir of dirs) {
      for (const ext of exts) {
        const candidate = path.join(dir, binary + ext);
        try {
          await access(candidate, platform === 'win32' ? constants.F_OK : constants.X_OK);
          if ((await stat(candidate)).isFile()) return candidate;
        } catch {
          // not here; keep looking
        }
      }
    }
    return null;
  };
}

/** Finds an editor by id or alias (case-insensitive); throws a sentence listing the valid ids otherwise. */
export function resolveEditor(name: string, origin = 'MESHCODE_EDITOR'): EditorSpec {
  const wanted = name.trim().toLowerCase();
  const found = EDITORS.find((e) => e.id === wanted || e.aliases.includes(wanted));
  if (found === undefined) {
    throw new EditorConfigError(
      'unknown_editor',
      `${origin}="${name}" is not a supported editor; use one of: ${EDITORS.map((e) => e.id).join(', ')}.`,
    );
  }
  return found;
}

export interface DetectEditorsOptions extends Omit<EditorPaths, 'workspaceDir'> {
  /** The raw environment: MESHCODE_EDITOR, PATH, PATHEXT, APPDATA are read. */
  env: Record<string, string | undefined>;
  pathLookup?: PathLookup;
}

export interface DetectedEditor {
  editor: EditorSpec;
  /** Absolute path of the launcher binary; null for Claude Desktop or a forced editor that is not installed. */
  binaryPath: string | null;
  /** True when MESHCODE_EDITOR chose it. */
  forced: boolean;
}

/** Installed editors in order of preference (Claude Code first); only the forced one when MESHCODE_EDITOR is set. */
export async function detectEditors(options: DetectEditorsOptions): Promise<DetectedEditor[]> {
  const env = envSchema.parse(options.env);
  const platform = options.platform ?? process.platform;
  const lookup = options.pathLookup ?? createPathLookup({ path: env.PATH, pathExt: env.PATHEXT, platform });
  const paths: EditorPaths = {
    workspaceDir: '',
    home: options.home,
    platform,
    appData: options.appData ?? env.APPDATA,
  };

  const probe = async (editor: EditorSpec): Promise<DetectedEditor | null> => {
    if (editor.binary !== null) {
      const binaryPath = await lookup(editor.binary);
      return binaryPath === null ? null : { editor, binaryPath, forced: false };
    }
    const dir = path.dirname(editor.configPath(paths));
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    return isDir ? { editor, binaryPath: null, forced: false } : null;
  };

  if (env.MESHCODE_EDITOR !== undefined) {
    const editor = resolveEditor(env.MESHCODE_EDITOR);
    const found = await probe(editor);
    return [{ editor, binaryPath: found?.binaryPath ?? null, forced: true }];
  }
  const found = await Promise.all(EDITORS.map(probe));
  return found.filter((d): d is DetectedEditor => d !== null);
}
