// `meshcode delete-project <project> --yes`: delete one of your projects and everything in it (owner only). Without
// --yes it says what would go and changes nothing: there is no undo.
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('delete-project')
    .description('delete a project with its agents, messages, tasks, memory, invites and keys (owner only; no undo)')
    .argument('<project>', 'your project')
    .option('-y, --yes', 'delete it: without this flag nothing is deleted')
    .action(
      action(io, async (ctx, projectArg: string, opts: { yes?: boolean }) => {
        const project = checkName('project', projectArg);
        if (!opts.yes) {
          throw new CliError(
            `this would delete project '${project}' with its agents, messages, tasks, memory, invites and keys, for good`,
            EXIT.usage,
            `run meshcode delete-project ${project} --yes to delete it`,
          );
        }
        const { client } = await requireSession(ctx);
        const r = await withProject(client, project, () => client.deleteMeshwork(project, project));
        if (ctx.json) {
          printJson(ctx, r);
          return;
        }
        const agents = r.agents === 1 ? '1 agent' : `${r.agents} agents`;
        const keys = r.keys_revoked === 1 ? '1 key' : `${r.keys_revoked} keys`;
        ctx.out(`Deleted project '${r.meshwork}' with ${agents}; ${keys} revoked.`);
      }),
    );
}
