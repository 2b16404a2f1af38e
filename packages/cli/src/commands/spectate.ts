// `meshcode spectate <project> [--off]`: a public, read-only link to watch the project live; --off ends it (and cuts
// off anyone watching). Each new link replaces the previous one.
import type { Command } from 'commander';
import { spectate } from '@meshcode/client';
import { action, type Io } from '../common';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('spectate')
    .description('share a read-only link to watch a project live without login (--off turns it off)')
    .argument('<project>', 'your project')
    .option('--off', 'turn the link off; people watching are cut off')
    .action(
      action(io, async (ctx, projectArg: string, opts: { off?: boolean }) => {
        const project = checkName('project', projectArg);
        const { client } = await requireSession(ctx);
        const r = await withProject(client, project, () => spectate(client, project, opts.off !== true));
        if (ctx.json) {
          printJson(ctx, r);
          return;
        }
        if (!r.enabled) {
          ctx.out(
            r.was_enabled
              ? `The spectator link of '${project}' is off; anyone watching was cut off.`
              : `'${project}' had no spectator link; nothing to turn off.`,
          );
          return;
        }
        ctx.out(`Anyone with this link can watch '${project}' live, read-only, without logging in:`);
        ctx.out('');
        ctx.out(`  ${r.url}`);
        ctx.out('');
        ctx.out('Memory and scratchpad values and anything that looks like a key, token or password are masked.');
        if (r.replaced) ctx.out('The previous link stopped working.');
        ctx.out(`Turn it off with meshcode spectate ${project} --off`);
      }),
    );
}
