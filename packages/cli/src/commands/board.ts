// `meshcode board <project>`: the status board in the terminal; `--watch` redraws it live from the hub's SSE feed.
import type { Command } from 'commander';
import { subscribeActivity } from '@meshcode/client';
import type { ActivityRow, StatusBoard } from '@meshcode/protocol';
import { action, type Context, type Io } from '../common';
import { ago, clip, table } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

const RECENT = 8;

export function renderBoard(board: StatusBoard, recent: readonly ActivityRow[], now = Date.now()): string {
  const online = board.agents.filter((a) => a.status !== 'offline').length;
  const lines = [`Project ${board.meshwork}: ${board.agents.length} agents, ${online} online`, ''];
  if (board.agents.length === 0) {
    lines.push(`No agents yet: add one with meshcode setup ${board.meshwork} <agent>.`);
  } else {
    lines.push(
      table(
        ['AGENT', 'STATUS', 'TASK', 'UNREAD', 'LAST SEEN', 'DETAIL'],
        board.agents.map((a) => [
          a.name,
          a.status,
          a.current_task ? `${clip(a.current_task.title, 30)} (${a.current_task.progress}%)` : '-',
          String(a.unread),
          ago(a.last_seen_at, now),
          clip(a.status_detail, 50),
        ]),
      ),
    );
  }
  if (recent.length > 0) {
    lines.push('', 'Recent activity:');
    for (const r of recent) {
      lines.push(`  ${r.created_at.slice(11, 19)}  ${r.agent ?? '-'}  ${clip(r.summary, 80)}`);
    }
  }
  return lines.join('\n');
}

async function watch(ctx: Context, apiKey: string, project: string, first: StatusBoard): Promise<void> {
  const tty = process.stdout.isTTY === true && !ctx.json;
  let board = first;
  const recent: ActivityRow[] = [];
  let live = false;
  const draw = () => {
    if (ctx.json) {
      ctx.out(JSON.stringify(board));
      return;
    }
    // On a terminal the board is redrawn in place; in a pipe each version follows the last.
    const footer = live ? '(watching live, Ctrl-C to stop)' : '(connecting to the live feed…)';
    ctx.out(`${tty ? '\x1b[H\x1b[2J' : '\n'}${renderBoard(board, recent)}\n\n${footer}`);
  };
  draw();
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let failure: Error | null = null;
  try {
    await subscribeActivity({
      hubUrl: ctx.hubUrl,
      apiKey,
      meshwork: project,
      signal: controller.signal,
      onOpen: () => {
        live = true;
        if (!ctx.json) draw();
      },
      onStatus: (s) => {
        board = s;
        draw();
      },
      onActivity: (row) => {
        recent.push(row);
        if (recent.length > RECENT) recent.shift();
        // Status changes arrive as their own event; other rows only change the activity list.
        if (!ctx.json) draw();
      },
      onError: (err) => {
        failure = err;
      },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (failure !== null) throw failure;
}

export function register(program: Command, io: Io): void {
  program
    .command('board')
    .description('show the status board of a project: agents, status, current task, unread messages')
    .argument('<project>', 'project (meshwork) name')
    .option('-w, --watch', 'keep the board open and redraw it live')
    .action(
      action(io, async (ctx, projectName: string, opts: { watch?: boolean }) => {
        const project = checkName('project', projectName);
        const { client, credential } = await requireSession(ctx);
        const board = await withProject(client, project, () => client.status(project));
        if (opts.watch) {
          await watch(ctx, credential.key, board.meshwork, board);
          return;
        }
        ctx.out(ctx.json ? JSON.stringify(board, null, 2) : renderBoard(board, []));
      }),
    );
}
