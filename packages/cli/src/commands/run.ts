// `meshcode run <agent>`: open the agent's editor with its MCP server attached, recreating a deleted workspace from
// the hub. `--daemon --exec "<command>"` runs the agent headless instead (see ../daemon.ts).
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { action, type Context, type Io } from '../common';
import { runDaemon } from '../daemon';
import { instructionsFor, launchEditor } from '../editors';
import { CliError, EXIT } from '../errors';
import { printJson, progress } from '../output';
import { checkName, projectNotFound, projectsWithAgent } from '../resolve';
import { optionalSession, requireSession, noCredentials, type Session } from '../session';
import {
  chooseEditor,
  ensureWorkspace,
  findWorkspaces,
  type EditorChoice,
  type EnsureResult,
  type WorkspaceRecord,
} from '../workspace';
import { describeWorkspace } from './setup';

export interface RunOptions {
  project?: string;
  editor?: string;
  force?: boolean;
  daemon?: boolean;
  exec?: string;
  timeout: number;
  maxErrors: number;
  pause: number;
}

/** The project of an agent's workspace, from MESHCODE_HOME, or from the hub when the workspace is gone. */
async function locate(
  ctx: Context,
  agent: string,
  project: string | undefined,
): Promise<{ project: string; record: WorkspaceRecord | null; recovered: boolean }> {
  const local = await findWorkspaces(ctx, agent, project);
  const [only] = local;
  if (only !== undefined && local.length === 1)
    return { project: only.record.project, record: only.record, recovered: false };
  if (local.length > 1) {
    throw new CliError(
      `agent '${agent}' has workspaces in several projects (${local.map((w) => w.record.project).join(', ')})`,
      EXIT.usage,
      `pass --project <name>, e.g. meshcode run ${agent} --project ${local[0]?.record.project ?? '<project>'}`,
    );
  }
  const session = await optionalSession(ctx);
  if (session === null) {
    throw new CliError(
      `no workspace found for agent '${agent}', and no stored key to look it up on the hub`,
      EXIT.auth,
      `run meshcode login <key> and try again, or create it with meshcode setup <project> ${agent}`,
    );
  }
  progress(ctx, `no workspace found for agent '${agent}'; asking ${ctx.hubUrl} which project has it…`);
  const meshworks = await session.client.listMeshworks();
  if (project !== undefined && !meshworks.some((m) => m.name === project)) {
    throw projectNotFound(
      project,
      meshworks.map((m) => m.name),
    );
  }
  const candidates = projectsWithAgent(
    project === undefined ? meshworks : meshworks.filter((m) => m.name === project),
    agent,
  );
  const [one] = candidates;
  if (one === undefined) {
    throw new CliError(
      `no workspace found for agent '${agent}', and ${project === undefined ? 'none of your projects has' : `project '${project}' has no`} an agent named '${agent}'`,
      EXIT.failure,
      `create it with meshcode setup <project> ${agent} (or meshcode go ${agent})`,
    );
  }
  if (candidates.length > 1) {
    throw new CliError(
      `agent '${agent}' exists in several projects (${candidates.map((m) => m.name).join(', ')})`,
      EXIT.usage,
      `pass --project <name>, e.g. meshcode run ${agent} --project ${one.name}`,
    );
  }
  return { project: one.name, record: null, recovered: true };
}

function installHint(choice: EditorChoice): string {
  if (choice.reason === 'default') {
    return 'No supported editor was found on PATH (claude, cursor, code, windsurf, codex), so the workspace is set up for Claude Code; install one, or pick another with MESHCODE_EDITOR=<editor> meshcode run <agent>.';
  }
  if (choice.editor.binary === null) return `${choice.editor.displayName} cannot be started from the command line.`;
  return `${choice.editor.displayName}'s launcher \`${choice.editor.binary}\` is not on PATH, so it was not started.`;
}

export interface PreparedRun {
  project: string;
  agent: string;
  choice: EditorChoice;
  workspace: EnsureResult;
  recovered: boolean;
}

/** Everything before the launch: find (or recreate) the workspace and make sure it is set up for the editor. */
export async function prepareRun(
  ctx: Context,
  input: { agent: string; project?: string; editor?: string },
): Promise<PreparedRun> {
  const agent = checkName('agent', input.agent);
  const wanted = input.project === undefined ? undefined : checkName('project', input.project);
  const { project, record, recovered } = await locate(ctx, agent, wanted);
  const choice = await chooseEditor(ctx, input.editor, record?.editor);
  const workspace = await ensureWorkspace(ctx, { project, agent, editor: choice.editor });
  if (recovered) progress(ctx, `recreated the workspace of '${agent}' (project '${project}') in ${workspace.dir}`);
  return { project, agent, choice, workspace, recovered };
}

/** Opens the editor, or prints what to do when it cannot be opened from here. */
export async function launch(
  ctx: Context,
  prepared: PreparedRun,
  session: Session | null,
  force: boolean,
): Promise<number> {
  const { choice, workspace, agent, project } = prepared;
  if (force) {
    if (session === null) throw noCredentials(ctx);
    // Freeing the lock lets the new window's MCP server connect; the old one is told it was taken over.
    const res = (await session.client.disconnect(project, agent)) as { disconnected?: boolean };
    if (res.disconnected) progress(ctx, `released '${agent}' from the window that held it`);
  }
  const instructions = instructionsFor(choice.editor, {
    configPath: workspace.config.path,
    workspaceDir: workspace.dir,
    agent,
  });
  if (choice.binaryPath === null) {
    if (ctx.json) {
      printJson(ctx, { ...summary(prepared), launched: false, reason: installHint(choice), instructions });
      return EXIT.ok;
    }
    ctx.out(installHint(choice));
    for (const line of describeWorkspace(workspace, choice.editor.displayName)) ctx.out(line);
    ctx.out('');
    ctx.out(instructions);
    return EXIT.ok;
  }
  progress(
    ctx,
    `starting ${choice.editor.displayName} for agent '${agent}' (project '${project}') in ${workspace.dir}…`,
  );
  const result = await launchEditor(choice.editor, {
    workspaceDir: workspace.dir,
    configPath: workspace.config.path,
    binaryPath: choice.binaryPath,
    env: ctx.env.raw,
  });
  if (ctx.json) {
    printJson(ctx, {
      ...summary(prepared),
      launched: true,
      command: [result.plan.command, ...result.plan.args],
      exit_code: result.exitCode,
    });
  } else if (result.exitCode === null && result.signal === null) {
    ctx.out(`${choice.editor.displayName} is opening ${workspace.dir} for agent '${agent}'.`);
    ctx.out(instructions.split('\n').slice(1).join('\n'));
  }
  return result.exitCode ?? EXIT.ok;
}

function summary(p: PreparedRun) {
  return {
    project: p.project,
    agent: p.agent,
    editor: p.choice.editor.id,
    workspace: p.workspace.dir,
    config: p.workspace.config,
    recovered: p.recovered,
  };
}

async function daemon(ctx: Context, agentName: string, opts: RunOptions): Promise<void> {
  if (!opts.exec) throw new CliError('--daemon needs the command to run', EXIT.usage, 'pass --exec "<command>"');
  const session = await requireSession(ctx);
  const agent = checkName('agent', agentName);
  const wanted = opts.project === undefined ? undefined : checkName('project', opts.project);
  // A daemon needs no editor config: the workspace (or the hub, when there is none) only says which project.
  const { project } = await locate(ctx, agent, wanted);
  const local = await findWorkspaces(ctx, agent, project);
  const cwd = local[0]?.dir ?? process.cwd();
  const controller = new AbortController();
  const onSignal = () => {
    if (!ctx.json) ctx.err('stopping…');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runDaemon({
      client: session.client,
      project,
      agent,
      command: opts.exec,
      cwd,
      env: ctx.env.raw,
      timeoutMs: opts.timeout * 1000,
      maxErrors: opts.maxErrors,
      pauseMs: opts.pause * 1000,
      force: opts.force === true,
      signal: controller.signal,
      log: (line) => ctx.err(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return n;
  };
}

export function register(program: Command, io: Io): void {
  program
    .command('run')
    .description("launch the agent's editor with its MCP server attached (recreates a deleted workspace from the hub)")
    .argument('<agent>', 'agent name, e.g. backend')
    .option('--project <project>', 'the project, when the agent name exists in several')
    .option(
      '--editor <editor>',
      'editor to launch (default: MESHCODE_EDITOR, the one set up before, or the first installed)',
    )
    .option('--force', 'take the agent over from another window that holds it')
    .option('--daemon', 'run headless: answer each batch of messages with the output of --exec')
    .option(
      '--exec <command>',
      'with --daemon: shell command run per batch, messages as JSON on stdin, stdout is the answer',
    )
    .option('--timeout <seconds>', 'with --daemon: time limit per run of the command', positiveNumber('--timeout'), 300)
    .option('--max-errors <n>', 'with --daemon: consecutive failures before pausing', positiveNumber('--max-errors'), 3)
    .option(
      '--pause <seconds>',
      'with --daemon: first pause after --max-errors failures (doubles, up to 10 min)',
      positiveNumber('--pause'),
      30,
    )
    .action(
      action(io, async (ctx, agent: string, opts: RunOptions) => {
        if (opts.daemon) {
          await daemon(ctx, agent, opts);
          return;
        }
        if (opts.exec !== undefined)
          throw new CliError(
            '--exec only works with --daemon',
            EXIT.usage,
            `run meshcode run ${agent} --daemon --exec "<command>"`,
          );
        const prepared = await prepareRun(ctx, { agent, project: opts.project, editor: opts.editor });
        const session = opts.force ? await optionalSession(ctx) : null;
        const code = await launch(ctx, prepared, session, opts.force === true);
        if (code !== EXIT.ok) io.exit(code);
      }),
    );
}
