// meshcode_ask: send a question with a deadline and wait for its reply (mc_wait_reply). The reply is not shown
// again by meshcode_wait; a reply that comes after the timeout is.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { withRetry } from '@meshcode/client';
import { MeshError } from '@meshcode/protocol';
import { anySignal, defineTool, fail, json, keepAlive, SEND_RETRY_MS } from '../tool';

const DEFAULT_ASK_SECONDS = 120;
const MAX_ASK_SECONDS = 300;

export default defineTool({
  name: 'meshcode_ask',
  description: 'Ask a teammate a question and wait for the answer (times out).',
  input: {
    to: z.string().min(1).describe('Agent name'),
    question: z.string().min(1).describe('What you need to know'),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_ASK_SECONDS)
      .optional()
      .describe(`Seconds to wait (default ${DEFAULT_ASK_SECONDS})`),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  target: (a) => a.to,
  async run(a, ctx, extra) {
    const seconds = a.timeout_seconds ?? DEFAULT_ASK_SECONDS;
    const key = randomUUID();
    const ask = await withRetry(
      () =>
        ctx.client.send({
          meshwork: ctx.meshwork,
          from: ctx.agent,
          to: a.to,
          body: a.question,
          kind: 'ask',
          deadlineSeconds: seconds,
          idempotencyKey: key,
        }),
      anySignal([ctx.signal, extra.signal], SEND_RETRY_MS),
    );
    const deadline = Date.now() + seconds * 1000;
    const signal = anySignal([ctx.signal, extra.signal], seconds * 1000 + 15_000);
    const stopKeepAlive = keepAlive(extra);
    try {
      for (;;) {
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        const res = await withRetry(
          () =>
            ctx.client.waitReply({
              meshwork: ctx.meshwork,
              agent: ctx.agent,
              messageId: ask.id,
              timeoutSeconds: left,
              signal,
            }),
          signal,
        );
        if (res.reply) {
          ctx.shownReplies.add(res.reply.id);
          return json({ from: res.reply.from, answer: res.reply.body, thread_id: res.reply.thread_id });
        }
        if (res.expired || Date.now() >= deadline) break;
      }
    } catch (err) {
      if (!(err instanceof MeshError) || extra.signal.aborted) throw err;
      if (ctx.signal.aborted) return fail((await ctx.session.ensureLive()) ?? 'the ask was interrupted.');
      if (!signal.aborted) throw err;
      return fail(
        `the hub was unreachable while waiting for ${a.to}'s answer (${err.toSentence()}); the question (id ${ask.id}) stays in their inbox and the answer will show up in meshcode_wait.`,
      );
    } finally {
      stopKeepAlive();
    }
    return fail(
      `${a.to} did not answer within ${seconds} s; the question (id ${ask.id}) stays in their inbox and a late answer will show up in meshcode_wait.`,
    );
  },
});
