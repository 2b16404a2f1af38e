// `meshcode send <project> <from>:<to> <message>` (legacy, before MCP tools): post one message by hand.
// An empty <from> (":backend") sends as you, the overseer; "*" as <to> broadcasts.
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function parseRoute(route: string): { from: string | undefined; to: string } {
  const i = route.indexOf(':');
  const from = i < 0 ? '' : route.slice(0, i).trim();
  const to = i < 0 ? '' : route.slice(i + 1).trim();
  if (to === '') {
    throw new CliError(
      `'${route}' is not a <from>:<to> route`,
      EXIT.usage,
      'write it like commander:backend (or :backend to send as yourself, commander:* to broadcast)',
    );
  }
  return { from: from === '' ? undefined : checkName('agent', from), to: to === '*' ? '*' : checkName('agent', to) };
}

export function register(program: Command, io: Io): void {
  program
    .command('send')
    .description('(legacy) send a message by hand: meshcode send my-project a:b \'{"need":"..."}\'')
    .argument('<project>', 'project (meshwork) name')
    .argument('<route>', '<from>:<to> agent names (empty from = you; to "*" = everyone)')
    .argument('<message...>', 'the message text')
    .action(
      action(io, async (ctx, projectName: string, route: string, words: string[]) => {
        const project = checkName('project', projectName);
        const { from, to } = parseRoute(route);
        const body = words.join(' ');
        const { client } = await requireSession(ctx);
        const res = await withProject(client, project, () => client.send({ meshwork: project, from, to, body }));
        if (ctx.json) {
          printJson(ctx, res);
          return;
        }
        const target = to === '*' ? `everyone (${res.recipients} agents)` : to;
        ctx.out(`Sent from ${from ?? 'you'} to ${target} in '${project}' (message ${res.id}).`);
      }),
    );
}
