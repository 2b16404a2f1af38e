// meshcode_wait: block until messages or tasks arrive. The cursor lives on the hub (Inbox), so a restarted window
// resumes where the agent was; a hub restart mid-wait is retried, and nothing handed out is lost before it is acked.
import { z } from 'zod';
import { MeshError, type Message } from '@meshcode/protocol';
import { showMessage } from '../format';
import { anySignal, defineTool, fail, json, keepAlive, text, type ToolContext } from '../tool';

export const DEFAULT_WAIT_SECONDS = 60;
export const MAX_WAIT_SECONDS = 300;
const BATCH = 20;
const MAX_PENDING = 50;
/** How long past its deadline a wait keeps retrying an unreachable hub before giving up. */
const GRACE_MS = 15_000;

export default defineTool({
  name: 'meshcode_wait',
  description: 'Block until messages or tasks arrive for you; each comes with how to answer it.',
  input: {
    timeout_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe(`Seconds to block (default ${DEFAULT_WAIT_SECONDS}, max ${MAX_WAIT_SECONDS})`),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run({ timeout_seconds }, ctx, extra) {
    const seconds = timeout_seconds ?? DEFAULT_WAIT_SECONDS;
    const deadline = Date.now() + seconds * 1000;
    const signal = anySignal([ctx.signal, extra.signal], seconds * 1000 + GRACE_MS);
    const stopKeepAlive = keepAlive(extra);
    let got: { shown: Message[]; full: boolean };
    try {
      got = await receive(ctx, deadline, signal);
    } catch (err) {
      if (ctx.signal.aborted) {
        const refusal = await ctx.session.ensureLive();
        return fail(refusal ?? 'the wait was interrupted; call meshcode_wait again.');
      }
      if (err instanceof MeshError && signal.aborted && !extra.signal.aborted) {
        return fail(`the hub stayed unreachable for the whole wait (${err.toSentence()}); call meshcode_wait again.`);
      }
      throw err;
    } finally {
      stopKeepAlive();
    }
    const { shown, full } = got;
    if (shown.length === 0) return text(`Nothing arrived in ${seconds} s. Call meshcode_wait again.`);
    const items = shown.map((m) => {
      const { item, pending } = showMessage(m);
      if (pending) ctx.pending.set(pending.kind === 'ask' ? pending.id : pending.taskId, pending);
      return item;
    });
    // Open items stay open across waits until answered; only the newest are kept.
    for (const key of [...ctx.pending.keys()].slice(0, Math.max(0, ctx.pending.size - MAX_PENDING)))
      ctx.pending.delete(key);
    const more = full ? ' More may be waiting.' : '';
    return json({ messages: items }, `Handle each as its "answer" says, then call meshcode_wait again.${more}`);
  },
});

/** Batches until one has something to show or the deadline passes (each call acks the batch before it). */
async function receive(
  ctx: ToolContext,
  deadline: number,
  signal: AbortSignal,
): Promise<{ shown: Message[]; full: boolean }> {
  for (;;) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const batch = await ctx.inbox.next({ timeoutSeconds: left, limit: BATCH, signal });
    // A reply meshcode_ask already returned is acked with the batch but not shown again.
    const shown = batch.filter((m) => !(m.kind === 'reply' && ctx.shownReplies.delete(m.id)));
    if (shown.length > 0 || Date.now() >= deadline) return { shown, full: batch.length === BATCH };
  }
}
