// meshcode_recall: read one memory, or all of this agent's memories.
import { z } from 'zod';
import { defineTool, json } from '../tool';

export default defineTool({
  name: 'meshcode_recall',
  description: 'Read your persistent memory: one key, or everything when no key is given.',
  input: {
    key: z.string().min(1).optional().describe('Key to read (omit for all)'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  target: (a) => a.key,
  async run(a, ctx) {
    if (a.key !== undefined) {
      const res = await ctx.client.recall(ctx.meshwork, ctx.agent, a.key);
      return json({ key: res.key, found: res.found, value: res.value });
    }
    const res = await ctx.client.recallAll(ctx.meshwork, ctx.agent);
    return json({ memories: res.memories.map((m) => ({ key: m.key, value: m.value })) });
  },
});
