// meshcode_status: the team board: who is online, what each agent is doing, unread counts.
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_status',
  description: 'Who is on the team, who is online, and what each agent is doing.',
  input: {},
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(_a, ctx) {
    const board = await ctx.client.status(ctx.meshwork);
    const lines = board.agents.map((x) => {
      const parts = [`${x.name}${x.name === ctx.agent ? ' (you)' : ''}: ${x.status}`];
      if (x.status_detail) parts.push(`"${x.status_detail}"`);
      if (x.role) parts.push(`role: ${x.role}`);
      if (x.current_task) parts.push(`task: ${x.current_task.title} (${x.current_task.progress}%)`);
      if (x.unread > 0) parts.push(`${x.unread} unread`);
      return `- ${parts.join(' · ')}`;
    });
    const online = board.agents.filter((x) => x.status !== 'offline').length;
    return text(`Team ${board.meshwork}: ${online}/${board.agents.length} online\n${lines.join('\n')}`);
  },
});
