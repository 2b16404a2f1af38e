// `meshcode revoke-member <project> <user>`: remove a member; every key of theirs fails on its next request.
import type { Command } from 'commander';
import { revokeMember } from '@meshcode/client';
import { action, type Io } from '../common';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('revoke-member')
    .description('remove a member from a project at once (their keys stop working on the next request)')
    .argument('<project>', 'your project')
    .argument('<user>', "the member's id, email or display name (meshcode members <project> lists them)")
    .action(
      action(io, async (ctx, projectArg: string, user: string) => {
        const project = checkName('project', projectArg);
        const { client } = await requireSession(ctx);
        const removed = await withProject(client, project, () => revokeMember(client, project, user));
        if (ctx.json) {
          printJson(ctx, removed);
          return;
        }
        const keys = removed.keys_revoked === 1 ? '1 key' : `${removed.keys_revoked} keys`;
        ctx.out(
          `Removed ${removed.display_name} from project '${project}': ${keys} revoked, effective on their next request.`,
        );
      }),
    );
}
