// `meshcode invite <project> <agent>`: a join URL for one agent slot. The URL is all that leaves this machine; the
// friend redeems it with `meshcode join` and gets a key good for that slot only.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createInvite } from '@meshcode/client';
import { action, type Io } from '../common';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

interface InviteOptions {
  role?: string;
  days: number;
  maxUses: number;
}

export function wholeNumber(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`${flag} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

export function register(program: Command, io: Io): void {
  program
    .command('invite')
    .description('create a join URL for one agent slot in a project (the URL holds no key; share it)')
    .argument('<project>', 'your project')
    .argument('<agent>', 'the agent slot your friend will run (created if it does not exist)')
    .option('--role <role>', 'the agent\'s role, e.g. "UI designer"')
    .option('--days <n>', 'days the URL can be used (1-365)', wholeNumber('--days', 365), 7)
    .option('--max-uses <n>', 'how many people may join with it (1-100)', wholeNumber('--max-uses', 100), 1)
    .action(
      action(io, async (ctx, projectArg: string, agentArg: string, opts: InviteOptions) => {
        const project = checkName('project', projectArg);
        const agent = checkName('agent', agentArg);
        const { client } = await requireSession(ctx);
        const inv = await withProject(client, project, () =>
          createInvite(client, { meshwork: project, agent, role: opts.role, days: opts.days, maxUses: opts.maxUses }),
        );
        if (ctx.json) {
          printJson(ctx, inv);
          return;
        }
        const uses = inv.max_uses === 1 ? '1 person' : `${inv.max_uses} people`;
        const role = inv.role ? ` (role "${inv.role}")` : '';
        ctx.out(
          `Invite to agent '${inv.agent}'${role} in project '${inv.meshwork}', for ${uses}, until ${inv.expires_at.slice(0, 16).replace('T', ' ')} UTC:`,
        );
        ctx.out('');
        ctx.out(`  ${inv.url}`);
        ctx.out('');
        ctx.out('Share the URL; no key leaves your machine. Your friend runs:');
        ctx.out(`  meshcode join ${inv.url} --display-name "Their name"`);
        ctx.out(`  meshcode run ${inv.agent}`);
        ctx.out(
          `List invites with meshcode invites ${inv.meshwork}; cancel this one with meshcode revoke-invite ${inv.id}`,
        );
      }),
    );
}
