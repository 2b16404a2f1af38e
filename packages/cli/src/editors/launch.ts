// Start an editor on an agent's workspace. Terminal apps (Claude Code, Codex) take over our terminal and we wait for
// them; GUI apps are started detached so the CLI can exit while the window stays open.
import { spawn as nodeSpawn } from 'node:child_process';
import { EditorConfigError } from './errors';
import { editorById, type EditorId, type EditorSpec } from './table';

export interface LaunchPlan {
  command: string;
  args: string[];
  cwd: string;
  stdio: 'inherit' | 'ignore';
  detached: boolean;
}

export interface LaunchInput {
  workspaceDir: string;
  /** The config written for this editor (Claude Code gets it with --mcp-config). */
  configPath: string;
  /** Absolute path from detectEditors; the bare binary name (resolved through PATH) otherwise. */
  binaryPath?: string | null;
}

export interface LaunchOptions extends LaunchInput {
  spawn?: typeof nodeSpawn;
  env?: NodeJS.ProcessEnv;
}

export interface LaunchResult {
  plan: LaunchPlan;
  /** Exit of a terminal editor; null for detached ones (they outlive us). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

function spec(editor: EditorSpec | EditorId): EditorSpec {
  return typeof editor === 'string' ? editorById(editor) : editor;
}

/** The exact command line, without running anything. */
export function launchPlan(editor: EditorSpec | EditorId, input: LaunchInput): LaunchPlan {
  const e = spec(editor);
  if (e.binary === null) {
    throw new EditorConfigError(
      'not_launchable',
      `${e.displayName} cannot be started from the command line; quit and reopen it so it loads the meshcode server.`,
    );
  }
  return {
    command: input.binaryPath ?? e.binary,
    args: e.launchArgs({ workspaceDir: input.workspaceDir, configPath: input.configPath }),
    cwd: input.workspaceDir,
    stdio: e.terminal ? 'inherit' : 'ignore',
    detached: !e.terminal,
  };
}

export async function launchEditor(editor: EditorSpec | EditorId, options: LaunchOptions): Promise<LaunchResult> {
  const e = spec(editor);
  const plan = launchPlan(e, options);
  const spawn = options.spawn ?? nodeSpawn;
  const failed = (err: unknown) => {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown error';
    return new EditorConfigError(
      'launch_failed',
      code === 'ENOENT'
        ? `Could not start ${e.displayName}: \`${plan.command}\` is not on PATH; install its command-line launcher or pick another editor with MESHCODE_EDITOR.`
        : `Could not start ${e.displayName} with \`${plan.command}\` (${code}); check that it runs from a terminal.`,
    );
  };
  const child = spawn(plan.command, plan.args, {
    cwd: plan.cwd,
    stdio: plan.stdio,
    detached: plan.detached,
    env: options.env,
  });
  if (plan.detached) {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (err) => reject(failed(err)));
      child.once('spawn', () => resolve());
    });
    child.unref();
    return { plan, exitCode: null, signal: null };
  }
  // The terminal belongs to the editor now: Ctrl-C is its to handle, so it must not kill us underneath it.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    return await new Promise<LaunchResult>((resolve, reject) => {
      child.once('error', (err) => reject(failed(err)));
      child.once('exit', (exitCode, signal) => resolve({ plan, exitCode, signal }));
    });
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}
