// `meshcode projects` (aliases `list`, `ls`): your projects and their agents, with live status.
import type { Command } from 'commander';
import { action, type Io } from '../common';
import { ago, printJson, table } from '../output';
import { requireSession } from '../session';

export function register(program: Command, io: Io): void {
  program
    .command('projects')
    .aliases(['list', 'ls'])
    .description('list your projects (meshworks) and their agents with status')
    .action(
      action(io, async (ctx) => {
        const { client } = await requireSession(ctx);
        const meshworks = await client.listMeshworks();
        if (ctx.json) {
          printJson(ctx, meshworks);
          return;
        }
        if (meshworks.length === 0) {
          ctx.out('No projects yet: create one with meshcode go <agent> or meshcode setup <project> <agent>.');
          return;
        }
        const rows: string[][] = [];
        for (const m of meshworks) {
          if (m.agents.length === 0) rows.push([m.name, m.role, '-', '-', '-', '']);
          for (const a of m.agents) rows.push([m.name, m.role, a.name, a.status, ago(a.last_seen_at), a.role]);
        }
        ctx.out(table(['PROJECT', 'ACCESS', 'AGENT', 'STATUS', 'LAST SEEN', 'ROLE'], rows));
      }),
    );
}
