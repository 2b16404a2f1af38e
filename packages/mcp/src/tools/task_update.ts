// meshcode_task_update: progress, status, result or reassignment of one task.
import { z } from 'zod';
import { defineTool, json, uuid } from '../tool';

export default defineTool({
  name: 'meshcode_task_update',
  description: 'Update a task: progress, status, result, or assignee.',
  input: {
    task_id: uuid().describe('Task id'),
    status: z.enum(['open', 'in_progress', 'blocked', 'done', 'failed', 'cancelled']).optional().describe('New status'),
    progress: z.number().int().min(0).max(100).optional().describe('Percent done'),
    result: z.string().optional().describe('Outcome or notes'),
    assignee: z.string().optional().describe('Agent to hand it to ("" unassigns)'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  target: (a) => a.task_id,
  async run(a, ctx) {
    const task = await ctx.client.updateTask(ctx.meshwork, a.task_id, {
      status: a.status,
      progress: a.progress,
      result: a.result,
      assignee: a.assignee,
      agent: ctx.agent,
    });
    if (task.status === 'done' || task.status === 'failed' || task.status === 'cancelled') ctx.pending.delete(task.id);
    return json({
      id: task.id,
      title: task.title,
      status: task.status,
      progress: task.progress,
      assignee: task.assignee,
    });
  },
});
