// `meshcode setup <project> <agent>`: make sure the project and agent exist on the hub, then write the agent's
// workspace (editor MCP config + meshcode.json). Safe to re-run: nothing changes when everything is in place.
import path from 'node:path';
import type { Command } from 'commander';
import { distance } from 'fastest-levenshtein';
import { MeshError } from '@meshcode/client';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson, progress } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession, type Session } from '../session';
import {
  chooseEditor,
  ensureWorkspace,
  readWorkspace,
  RECORD_FILE,
  workspaceDir,
  type EditorChoice,
  type EnsureResult,
} from '../workspace';

export interface SetupResult {
  project: string;
  agent: string;
  createdProject: boolean;
  createdAgent: boolean;
  choice: EditorChoice;
  workspace: EnsureResult;
}

/** Creates the project (yours) and the agent when missing, then the local workspace. */
export async function setupAgent(
  ctx: Context,
  session: Session,
  input: { project: string; agent: string; editor?: string; create?: boolean },
): Promise<SetupResult> {
  const wanted = checkName('project', input.project);
  const agent = checkName('agent', input.agent);
  const { client } = session;
  progress(ctx, `checking project '${wanted}' on ${ctx.hubUrl}…`);
  const meshworks = await client.listMeshworks();
  let project = meshworks.find((m) => m.name === wanted)?.name;
  let createdProject = false;
  if (project === undefined) {
    // A name one or two edits away from a project you have is far more often a typo than a new project.
    const typoOf = meshworks.map((m) => m.name).filter((n) => distance(wanted, n) <= (wanted.length <= 4 ? 1 : 2));
    if (typoOf.length > 0 && !input.create) {
      throw new CliError(
        `could not resolve project '${wanted}': project not found`,
        EXIT.failure,
        `did you mean ${typoOf.map((n) => `'${n}'`).join(' or ')}? To make a new project '${wanted}', run meshcode setup ${wanted} ${agent} --create`,
      );
    }
    progress(ctx, `creating project '${wanted}'…`);
    try {
      project = (await client.createMeshwork(wanted)).name;
      createdProject = true;
    } catch (err) {
      // Created meanwhile by another window of ours: that is the project we want.
      if (!(err instanceof MeshError && err.status === 409)) throw err;
      project = wanted;
    }
  }
  const previous = await readWorkspace(workspaceDir(ctx, project, agent));
  const choice = await chooseEditor(ctx, input.editor, previous?.editor);
  const added = await withProject(client, project, () =>
    client.addAgent(project, agent, { existOk: true, kind: 'editor', editor: choice.editor.id }),
  );
  progress(ctx, added.created ? `added agent '${agent}' to '${project}'` : `agent '${agent}' already in '${project}'`);
  const workspace = await ensureWorkspace(ctx, { project, agent, editor: choice.editor });
  return { project, agent, createdProject, createdAgent: added.created, choice, workspace };
}

/** Lines telling what was written (or that nothing had to be). */
export function describeWorkspace(ws: EnsureResult, editorName: string): string[] {
  return [
    `Workspace: ${ws.dir}${ws.created ? ' (created)' : ''}`,
    `  ${ws.config.changed ? 'wrote    ' : 'unchanged'} ${ws.config.path} (${editorName} MCP config)`,
    `  ${ws.recordChanged ? 'wrote    ' : 'unchanged'} ${path.join(ws.dir, RECORD_FILE)}`,
  ];
}

export function setupJson(r: SetupResult) {
  return {
    project: r.project,
    agent: r.agent,
    created_project: r.createdProject,
    created_agent: r.createdAgent,
    editor: r.choice.editor.id,
    workspace: r.workspace.dir,
    config: r.workspace.config,
    record: { path: path.join(r.workspace.dir, RECORD_FILE), changed: r.workspace.recordChanged },
  };
}

export function register(program: Command, io: Io): void {
  program
    .command('setup')
    .description('create the project and agent when missing and write the agent workspace with its editor MCP config')
    .argument('<project>', 'project (meshwork) name')
    .argument('<agent>', 'agent name, e.g. backend')
    .option('--editor <editor>', 'editor to configure (default: MESHCODE_EDITOR, else the first one installed)')
    .option('--create', 'create the project even when its name is close to one you have')
    .action(
      action(io, async (ctx, project: string, agent: string, opts: { editor?: string; create?: boolean }) => {
        const session = await requireSession(ctx);
        const r = await setupAgent(ctx, session, { project, agent, editor: opts.editor, create: opts.create });
        if (ctx.json) {
          printJson(ctx, setupJson(r));
          return;
        }
        const unchanged =
          !r.createdProject && !r.createdAgent && !r.workspace.config.changed && !r.workspace.recordChanged;
        ctx.out(
          unchanged
            ? `Agent '${r.agent}' in project '${r.project}' is already set up; nothing changed.`
            : `Agent '${r.agent}' in project '${r.project}' is set up for ${r.choice.editor.displayName}.`,
        );
        for (const line of describeWorkspace(r.workspace, r.choice.editor.displayName)) ctx.out(line);
        ctx.out('');
        ctx.out(`Next: meshcode run ${r.agent}`);
      }),
    );
}
