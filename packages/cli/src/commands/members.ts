// `meshcode members <project>`: who belongs to a project, their role and the agent slots their keys are for. A guest
// sees itself and the owner, which also answers "which project is my key for?".
import type { Command } from 'commander';
import { listMembers } from '@meshcode/client';
import { action, type Io } from '../common';
import { ago, printJson, table } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('members')
    .description('list the members of a project (remove one with meshcode revoke-member)')
    .argument('<project>', 'the project')
    .action(
      action(io, async (ctx, projectArg: string) => {
        const project = checkName('project', projectArg);
        const { client } = await requireSession(ctx);
        const members = await withProject(client, project, () => listMembers(client, project));
        if (ctx.json) {
          printJson(ctx, members);
          return;
        }
        ctx.out(
          table(
            ['ID', 'NAME', 'ROLE', 'AGENTS', 'LAST SEEN'],
            members.map((m) => [
              m.account_id,
              `${m.display_name}${m.you ? ' (you)' : ''}${m.email ? ` <${m.email}>` : ''}`,
              m.role,
              m.agents.join(', ') || '-',
              m.role === 'owner' ? '-' : ago(m.last_used_at),
            ]),
          ),
        );
      }),
    );
}
