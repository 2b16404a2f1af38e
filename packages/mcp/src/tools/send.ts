// meshcode_send: a message to one teammate (or the human overseer). Retried with one idempotency key: stored once.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { withRetry } from '@meshcode/client';
import { anySignal, defineTool, SEND_RETRY_MS, uuid, text } from '../tool';

export default defineTool({
  name: 'meshcode_send',
  description: 'Send a message to one teammate (or "overseer", the human); does not wait for an answer.',
  input: {
    to: z.string().min(1).describe('Agent name, or "overseer"'),
    body: z.string().min(1).describe('Message text'),
    thread_id: uuid().optional().describe('Thread to continue (from a received message)'),
    reply_to: uuid().optional().describe('Id of the message this answers'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  target: (a) => a.to,
  async run(a, ctx, extra) {
    const key = randomUUID();
    const sent = await withRetry(
      () =>
        ctx.client.send({
          meshwork: ctx.meshwork,
          from: ctx.agent,
          to: a.to,
          body: a.body,
          threadId: a.thread_id,
          replyTo: a.reply_to,
          idempotencyKey: key,
        }),
      anySignal([ctx.signal, extra.signal], SEND_RETRY_MS),
    );
    if (a.reply_to) ctx.pending.delete(a.reply_to);
    return text(`Sent to ${a.to} (id ${sent.id}, thread ${sent.thread_id}).`);
  },
});
