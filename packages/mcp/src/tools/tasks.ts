// meshcode_tasks: the shared board: list tasks, claim the next (or a given) one, or create one for a teammate.
import { z } from 'zod';
import type { Task } from '@meshcode/protocol';
import { defineTool, fail, json, uuid } from '../tool';

const brief = (t: Task) => ({
  id: t.id,
  title: t.title,
  status: t.status,
  priority: t.priority,
  assignee: t.assignee,
  progress: t.progress,
  ...(t.body ? { body: t.body.length > 500 ? `${t.body.slice(0, 497)}...` : t.body } : {}),
});

export default defineTool({
  name: 'meshcode_tasks',
  description: 'The team task board: list tasks, claim one to work on, or create one (optionally assigned).',
  input: {
    action: z.enum(['list', 'claim', 'create']).optional().describe('Default list'),
    status: z
      .enum(['active', 'open', 'claimed', 'in_progress', 'blocked', 'done', 'failed', 'cancelled'])
      .optional()
      .describe('list: filter (default active)'),
    mine: z.boolean().optional().describe('list: only tasks assigned to you'),
    task_id: uuid().optional().describe('claim: this task (default: next claimable)'),
    title: z.string().optional().describe('create: title'),
    body: z.string().optional().describe('create: details'),
    assignee: z.string().optional().describe('create: agent to assign'),
    priority: z.enum(['low', 'normal', 'high', 'urgent']).optional().describe('create: default normal'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  target: (a) => (a.action === 'create' ? (a.assignee ?? a.title) : a.action === 'claim' ? a.task_id : undefined),
  async run(a, ctx) {
    const action = a.action ?? 'list';
    if (action === 'claim') {
      const { task } = await ctx.client.claimTask(ctx.meshwork, { agent: ctx.agent, taskId: a.task_id });
      if (!task) return json({ task: null }, 'Nothing to claim right now.');
      return json(
        { task: brief(task) },
        `Claimed. Work on it, report progress with meshcode_task_update, finish with meshcode_done(task_id="${task.id}", result="…").`,
      );
    }
    if (action === 'create') {
      if (!a.title) return fail('a new task needs a title: pass title (and optionally body, assignee, priority).');
      const task = await ctx.client.createTask(ctx.meshwork, {
        title: a.title,
        body: a.body,
        assignee: a.assignee,
        priority: a.priority,
        agent: ctx.agent,
      });
      return json({ task: brief(task) }, task.assignee ? `${task.assignee} gets it in meshcode_wait.` : undefined);
    }
    const tasks = await ctx.client.listTasks(ctx.meshwork, {
      status: a.status ?? 'active',
      assignee: a.mine ? ctx.agent : undefined,
      limit: 50,
    });
    return json({ tasks: tasks.map(brief) });
  },
});
