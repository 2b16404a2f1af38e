// `meshcode invites <project>`: outstanding and redeemed invites, with who joined through each.
import type { Command } from 'commander';
import { listInvites } from '@meshcode/client';
import { action, type Io } from '../common';
import { printJson, table } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('invites')
    .description("list a project's invites: outstanding, used, expired or revoked, and who joined")
    .argument('<project>', 'your project')
    .action(
      action(io, async (ctx, projectArg: string) => {
        const project = checkName('project', projectArg);
        const { client } = await requireSession(ctx);
        const invites = await withProject(client, project, () => listInvites(client, project));
        if (ctx.json) {
          printJson(ctx, invites);
          return;
        }
        if (invites.length === 0) {
          ctx.out(`No invites in '${project}' yet: create one with meshcode invite ${project} <agent> --days 7.`);
          return;
        }
        ctx.out(
          table(
            ['ID', 'AGENT', 'STATE', 'USES', 'EXPIRES (UTC)', 'JOINED'],
            invites.map((i) => [
              i.id,
              i.agent,
              i.state,
              `${i.uses}/${i.max_uses}`,
              i.expires_at.slice(0, 16).replace('T', ' '),
              i.redeemed_by.map((r) => (r.active ? r.display_name : `${r.display_name} (removed)`)).join(', ') || '-',
            ]),
          ),
        );
      }),
    );
}
