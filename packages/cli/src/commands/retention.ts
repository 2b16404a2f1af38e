// `meshcode retention <project> [days|forever]`: how long the project's history (chat, activity, finished tasks and
// pipeline events) is kept; setting it is the owner's. The hub prunes what is older in the background, never a message
// an agent has not read, open work or a write-back still to be made.
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { printJson } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

/** "90", or "forever" (0 to the hub); undefined reads the setting. */
function parseDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.trim().toLowerCase() === 'forever') return 0;
  const days = /^\d{1,4}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new CliError(`'${value}' is not a retention`, EXIT.usage, 'pass a number of days from 1 to 3650, or forever');
  }
  return days;
}

export function register(program: Command, io: Io): void {
  program
    .command('retention')
    .description(
      "show or set how long a project's history is kept: chat, activity, finished tasks, events (owner sets; default forever)",
    )
    .argument('<project>', 'your project')
    .argument('[days]', 'days to keep (1-3650), or forever')
    .action(
      action(io, async (ctx, projectArg: string, daysArg: string | undefined) => {
        const project = checkName('project', projectArg);
        const days = parseDays(daysArg);
        const { client } = await requireSession(ctx);
        const r = await withProject(client, project, () => client.retention(project, days));
        if (ctx.json) {
          printJson(ctx, r);
          return;
        }
        ctx.out(
          r.retention_days === null
            ? `'${project}' keeps its history forever.`
            : `'${project}' keeps its history (chat, activity, finished tasks, events) for ${r.retention_days} days; ` +
                'the hub prunes what is older, but never a message an agent has not read, open work or a write-back ' +
                'still to be made.',
        );
      }),
    );
}
