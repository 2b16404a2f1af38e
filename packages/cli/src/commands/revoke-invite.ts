// `meshcode revoke-invite <id>`: cancel an invite; people who already joined with it stay until revoke-member.
import type { Command } from 'commander';
import { revokeInvite } from '@meshcode/client';
import { action, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson } from '../output';
import { requireSession } from '../session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function register(program: Command, io: Io): void {
  program
    .command('revoke-invite')
    .description('cancel an invite so nobody else can join with it')
    .argument('<id>', 'the invite id (meshcode invites <project> lists them)')
    .action(
      action(io, async (ctx, id: string) => {
        if (!UUID.test(id.trim())) {
          throw new CliError(
            `'${id}' is not an invite id`,
            EXIT.usage,
            'copy the ID column of meshcode invites <project>',
          );
        }
        const { client } = await requireSession(ctx);
        const inv = await revokeInvite(client, id.trim());
        if (ctx.json) {
          printJson(ctx, inv);
          return;
        }
        ctx.out(
          `Invite ${inv.prefix} to agent '${inv.agent}' in project '${inv.meshwork}' is revoked: nobody can join with it now.`,
        );
        const joined = inv.redeemed_by.filter((r) => r.active);
        for (const r of joined) {
          ctx.out(
            `${r.display_name} already joined with it; remove them with meshcode revoke-member ${inv.meshwork} ${r.account_id}`,
          );
        }
      }),
    );
}
