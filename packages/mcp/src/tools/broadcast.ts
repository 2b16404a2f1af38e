// meshcode_broadcast: one message to every other agent of the meshwork.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { withRetry } from '@meshcode/client';
import { anySignal, defineTool, SEND_RETRY_MS, text } from '../tool';

export default defineTool({
  name: 'meshcode_broadcast',
  description: 'Send one message to every other agent of the team.',
  input: {
    body: z.string().min(1).describe('Message text'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  target: () => '*',
  async run(a, ctx, extra) {
    const key = randomUUID();
    const sent = await withRetry(
      () => ctx.client.send({ meshwork: ctx.meshwork, from: ctx.agent, to: '*', body: a.body, idempotencyKey: key }),
      anySignal([ctx.signal, extra.signal], SEND_RETRY_MS),
    );
    return text(`Broadcast to ${sent.recipients} agent${sent.recipients === 1 ? '' : 's'} (id ${sent.id}).`);
  },
});
