// `meshcode go <agent>`: the one command: check the login, pick the project, set the agent up, open its editor.
//
// Which project: --project; else the one holding this agent's workspace; else the one project on the hub that has an
// agent of that name; else, for a new agent, your only project, or `default` (created when you have none, so
// `go commander`, `go backend`, `go frontend` make one team). Several candidates are an error asking for --project.
import type { Command } from 'commander';
import type { Meshwork, Whoami } from '@meshcode/protocol';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { progress } from '../output';
import { checkName, projectsWithAgent } from '../resolve';
import { requireSession } from '../session';
import { findWorkspaces } from '../workspace';
import { launch } from './run';
import { setupAgent } from './setup';

export const DEFAULT_PROJECT = 'default';

export function pickProject(
  agent: string,
  meshworks: readonly Meshwork[],
  me: Whoami,
  localProjects: string[],
): string {
  if (me.key.scope !== 'owner' && me.key.meshwork) return me.key.meshwork;
  const [local] = localProjects;
  if (local !== undefined && localProjects.length === 1) return local;
  const withAgent = projectsWithAgent(meshworks, agent);
  const [one] = withAgent;
  if (one !== undefined && withAgent.length === 1) return one.name;
  if (withAgent.length > 1) {
    throw new CliError(
      `agent '${agent}' exists in several projects (${withAgent.map((m) => m.name).join(', ')})`,
      EXIT.usage,
      `pass --project <name>, e.g. meshcode go ${agent} --project ${one?.name ?? '<project>'}`,
    );
  }
  const [only] = meshworks;
  if (meshworks.length === 0) return DEFAULT_PROJECT;
  if (only !== undefined && meshworks.length === 1) return only.name;
  if (meshworks.some((m) => m.name === DEFAULT_PROJECT)) return DEFAULT_PROJECT;
  throw new CliError(
    `you have several projects and none has an agent named '${agent}'`,
    EXIT.usage,
    `pass --project <name> (yours: ${meshworks.map((m) => m.name).join(', ')})`,
  );
}

async function go(ctx: Context, agentName: string, opts: { project?: string; editor?: string; force?: boolean }) {
  const agent = checkName('agent', agentName);
  const session = await requireSession(ctx);
  progress(ctx, `checking your login with ${ctx.hubUrl}…`);
  const me = await session.client.whoami();
  progress(ctx, `logged in as ${me.account.email}`);
  let project = opts.project === undefined ? undefined : checkName('project', opts.project);
  if (project === undefined) {
    const local = [...new Set((await findWorkspaces(ctx, agent)).map((w) => w.record.project))];
    project = pickProject(agent, await session.client.listMeshworks(), me, local);
  }
  const r = await setupAgent(ctx, session, { project, agent, editor: opts.editor });
  return await launch(
    ctx,
    { project: r.project, agent: r.agent, choice: r.choice, workspace: r.workspace, recovered: false },
    session,
    opts.force === true,
  );
}

export function register(program: Command, io: Io): void {
  program
    .command('go')
    .description('one command: check the login, set the agent up (project, workspace, editor config) and launch it')
    .argument('<agent>', 'agent name, e.g. commander')
    .option(
      '--project <project>',
      `project to use (default: where the agent already is, your only project, or "${DEFAULT_PROJECT}")`,
    )
    .option('--editor <editor>', 'editor to use (default: MESHCODE_EDITOR, else the first one installed)')
    .option('--force', 'take the agent over from another window that holds it')
    .action(
      action(io, async (ctx, agent: string, opts: { project?: string; editor?: string; force?: boolean }) => {
        const code = await go(ctx, agent, opts);
        if (code !== EXIT.ok) io.exit(code);
      }),
    );
}
