// `meshcode read <project> <agent>` (legacy, before MCP tools): read an agent's unread messages by hand and mark them
// read; `--peek` leaves them unread for the agent.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Message } from '@meshcode/protocol';
import { action, type Io } from '../common';
import { printJson, progress } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 300) throw new InvalidArgumentError('--wait takes 0 to 300 seconds.');
  return n;
}

export function renderMessage(m: Message): string {
  const head = `#${m.seq ?? '-'}  ${m.created_at.slice(0, 19).replace('T', ' ')}  ${m.from} → ${m.to ?? '?'}${m.kind === 'message' ? '' : `  [${m.kind}]`}`;
  return `${head}\n${m.body
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;
}

export function register(program: Command, io: Io): void {
  program
    .command('read')
    .description("(legacy) read an agent's unread messages and mark them read")
    .argument('<project>', 'project (meshwork) name')
    .argument('<agent>', 'the agent whose inbox to read')
    .option('--peek', 'show the messages but leave them unread')
    .option('--wait <seconds>', 'wait up to this long for a message when none is unread', seconds, 0)
    .option('--limit <n>', 'at most this many messages', (v) => Math.max(1, Math.min(500, Number(v) || 100)), 100)
    .action(
      action(
        io,
        async (ctx, projectName: string, agentName: string, opts: { peek?: boolean; wait: number; limit: number }) => {
          const project = checkName('project', projectName);
          const agent = checkName('agent', agentName);
          const { client } = await requireSession(ctx);
          // No cursor passed: the hub resumes from the agent's stored cursor and acknowledges nothing new.
          const res = await withProject(client, project, () =>
            client.wait({ meshwork: project, agent, timeoutSeconds: opts.wait, limit: opts.limit }),
          );
          const last = res.messages.at(-1)?.seq;
          if (!opts.peek && last !== undefined) await client.ack(project, agent, last);
          if (ctx.json) {
            printJson(ctx, res.messages);
          } else if (res.messages.length === 0) {
            ctx.out(`No unread messages for '${agent}' in '${project}'.`);
          } else {
            ctx.out(res.messages.map(renderMessage).join('\n\n'));
          }
          if (res.messages.length > 0) {
            progress(
              ctx,
              `${res.messages.length} message${res.messages.length === 1 ? '' : 's'}${opts.peek ? ' left unread (--peek)' : ' marked read'}${res.has_more ? '; more are waiting, run it again' : ''}`,
            );
          }
        },
      ),
    );
}
