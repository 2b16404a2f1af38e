// meshcode_done: report the result of what was just handled. It answers the asker when that was an ask, closes the
// task when it was a task, acknowledges the batch once nothing is left open, and sets the agent's status.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { withRetry } from '@meshcode/client';
import { anySignal, defineTool, fail, type PendingItem, SEND_RETRY_MS, uuid, text } from '../tool';

export default defineTool({
  name: 'meshcode_done',
  description: 'Report the result of what you just handled: answers the ask or completes the task, sets your status.',
  input: {
    result: z.string().min(1).describe('Your answer or a summary of what you did'),
    reply_to: uuid().optional().describe('Id of the ask/message you answer (default: the one pending)'),
    task_id: uuid().optional().describe('Id of the task you worked on (default: the one pending)'),
    task_status: z
      .enum(['done', 'failed', 'blocked', 'in_progress'])
      .optional()
      .describe('New task status (default done)'),
    status: z.enum(['idle', 'working']).optional().describe('Your status now (default idle)'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  target: (a, ctx) => a.reply_to ?? a.task_id ?? [...ctx.pending.keys()][0],
  async run(a, ctx, extra) {
    let replyTo = a.reply_to;
    let taskId = a.task_id;
    if (!replyTo && !taskId && ctx.pending.size > 0) {
      if (ctx.pending.size > 1) {
        const open = [...ctx.pending.values()].map(describe).join(', ');
        return fail(
          `several items are still open (${open}); pass reply_to or task_id to say which one this result is for.`,
        );
      }
      const only = [...ctx.pending.values()][0]!;
      if (only.kind === 'ask') replyTo = only.id;
      else taskId = only.taskId;
    }
    const said: string[] = [];
    if (replyTo) {
      const key = randomUUID();
      const sent = await withRetry(
        () =>
          ctx.client.send({
            meshwork: ctx.meshwork,
            from: ctx.agent,
            kind: 'reply',
            // The hub sends a reply back to the asker (or the overseer) when no recipient is given.
            to: '',
            body: a.result,
            replyTo,
            idempotencyKey: key,
          }),
        anySignal([ctx.signal, extra.signal], SEND_RETRY_MS),
      );
      ctx.pending.delete(replyTo);
      said.push(`answered ${replyTo} (reply ${sent.id})`);
    }
    if (taskId) {
      const status = a.task_status ?? 'done';
      const task = await ctx.client.updateTask(ctx.meshwork, taskId, {
        status,
        result: a.result,
        agent: ctx.agent,
        ...(status === 'done' ? { progress: 100 } : {}),
      });
      if (status !== 'in_progress' && status !== 'blocked') ctx.pending.delete(taskId);
      said.push(`task "${task.title}" is ${task.status}`);
    }
    const status = a.status ?? 'idle';
    await ctx.session.beat(status, a.result.length > 200 ? `${a.result.slice(0, 197)}...` : a.result);
    // Ack the batch only once nothing from it is left to answer, so a crash mid-batch redelivers the rest.
    if (ctx.pending.size === 0) await ctx.inbox.commit();
    const left = ctx.pending.size > 0 ? ` Still open: ${[...ctx.pending.values()].map(describe).join(', ')}.` : '';
    return text(`${said.length ? said.join('; ') : 'Recorded'}; you are ${status}.${left} Next: meshcode_wait.`);
  },
});

function describe(p: PendingItem): string {
  return p.kind === 'ask' ? `ask ${p.id} from ${p.from}` : `task ${p.taskId} "${p.title}"`;
}
